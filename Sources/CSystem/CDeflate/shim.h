// libdeflate: whole-buffer DEFLATE/zlib decompression, about twice as fast as zlib's inflate.
#include <libdeflate.h>
