#pragma once
#define EXT_PRODUCT_VERSION 1
