#pragma once
namespace synapi { int run(int m); }
