// Helpers for what Swift cannot call directly (function-like macros).
#include "CGRPC.h"
