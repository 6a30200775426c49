// ZSTD_decompressBound (an upper bound on a frame's content, checked before allocating the
// output for an untrusted size field) is in zstd's static-linking section, exported by libzstd.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
