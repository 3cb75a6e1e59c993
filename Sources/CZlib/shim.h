// zlib: the header compression of SPDY/3.1, which kubelets speak for exec, attach and port forwarding.
#include <zlib.h>
