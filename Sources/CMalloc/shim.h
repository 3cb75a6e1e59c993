/* glibc's heap controls (malloc_trim), for KineLayer's HeapTrim. */
#include <malloc.h>
