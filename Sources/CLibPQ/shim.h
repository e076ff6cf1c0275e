// CLibPQ: the one door to libpq.
#include <libpq-fe.h>
