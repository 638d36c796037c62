#include "synapi/synapi.h"
#include <cstdio>
int main() { std::printf("%d\n", synapi::run(3)); return 0; }
