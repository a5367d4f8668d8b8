// glibc's allocator controls (mallopt), for HeapReuse in the tensor core. Nothing to link: they
// are in the C library.
#include <malloc.h>
