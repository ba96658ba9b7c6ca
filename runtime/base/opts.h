/* runtime/base/opts.h: reading a caller's struct that starts with `size_t size`.
 *
 * The caller may have been built against an older (smaller) or newer (larger) header:
 * only the bytes both sides know are copied, the rest of the local copy stays zero,
 * which every such struct defines as "the default". */
#ifndef RF_RUNTIME_BASE_OPTS_H
#define RF_RUNTIME_BASE_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Copy *src (may be NULL: all defaults) into dst of dst_size bytes. Returns 0, or -EINVAL
 * when src's size does not even cover the size field (an unset size). */
static inline int opts_copy(void *dst, size_t dst_size, const void *src)
{
	memset(dst, 0, dst_size);
	if (!src) {
		memcpy(dst, &dst_size, sizeof(dst_size));
		return 0;
	}
	size_t n;
	memcpy(&n, src, sizeof(n));
	if (n < sizeof(size_t))
		return -EINVAL;
	memcpy(dst, src, n < dst_size ? n : dst_size);
	memcpy(dst, &dst_size, sizeof(dst_size));
	return 0;
}

#endif
