/* maps.c - parse /proc/PID/maps lines and classify each region */
#include "collectors/maps.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[MAPS_KIND_COUNT] = {
	[MAPS_ANON] = "anon",       [MAPS_HEAP] = "heap",
	[MAPS_STACK] = "stack",     [MAPS_FILE_PRIVATE] = "file",
	[MAPS_FILE_SHARED] = "file-shared", [MAPS_SHMEM] = "shmem",
	[MAPS_SYSV] = "sysv",       [MAPS_HUGETLB] = "hugetlb",
	[MAPS_VDSO] = "vdso",       [MAPS_VVAR] = "vvar",
	[MAPS_VSYSCALL] = "vsyscall", [MAPS_SPECIAL] = "special",
};

const char *maps_kind_name(enum maps_kind k)
{
	return (unsigned)k < MAPS_KIND_COUNT ? kind_names[k] : "?";
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum maps_kind classify_bracket(const char *p)
{
	if (!strcmp(p, "[heap]"))
		return MAPS_HEAP;
	if (starts(p, "[stack"))
		return MAPS_STACK;
	if (!strcmp(p, "[vdso]"))
		return MAPS_VDSO;
	if (starts(p, "[vvar"))
		return MAPS_VVAR;
	if (!strcmp(p, "[vsyscall]"))
		return MAPS_VSYSCALL;
	if (starts(p, "[anon:") || starts(p, "[anon_shmem:"))
		return MAPS_ANON;
	return MAPS_SPECIAL;
}

enum maps_kind maps_classify(const struct maps_region *r)
{
	const char *p = r->path;
	if (p[0] == '[')
		return starts(p, "[anon_shmem:") ? MAPS_SHMEM : classify_bracket(p);
	if (!p[0])
		return r->shared ? MAPS_SHMEM : MAPS_ANON;
	if (starts(p, "/SYSV"))
		return MAPS_SYSV;
	/* MAP_HUGETLB memory shows as "/anon_hugepage (deleted)" */
	if (!strcmp(p, "anon_hugepage") || !strcmp(p, "/anon_hugepage") ||
	    starts(p, "/dev/hugepages/"))
		return MAPS_HUGETLB;
	if (!strcmp(p, "/dev/zero"))
		return r->shared ? MAPS_SHMEM : MAPS_ANON;
	/* memfd and tmpfs files are swap-backed like shared anonymous memory */
	if (r->shared && (starts(p, "/memfd:") || starts(p, "/dev/shm/")))
		return MAPS_SHMEM;
	return r->shared ? MAPS_FILE_SHARED : MAPS_FILE_PRIVATE;
}

static int parse_hex(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0;
	for (; s < end; s++, n++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (n >= 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
	}
	if (!n)
		return -EINVAL;
	*v = x;
	*p = s;
	return 0;
}

static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

static int parse_perms(const char **p, const char *end, struct maps_region *r)
{
	const char *s = *p;
	if (end - s < 4)
		return -EINVAL;
	if ((s[0] != 'r' && s[0] != '-') || (s[1] != 'w' && s[1] != '-') ||
	    (s[2] != 'x' && s[2] != '-') || (s[3] != 'p' && s[3] != 's'))
		return -EINVAL;
	r->read = s[0] == 'r';
	r->write = s[1] == 'w';
	r->exec = s[2] == 'x';
	r->shared = s[3] == 's';
	*p = s + 4;
	return 0;
}

static void set_path(struct maps_region *r, const char *s, const char *end)
{
	while (s < end && *s == ' ')
		s++;
	static const char del[] = " (deleted)";
	size_t n = (size_t)(end - s), dl = sizeof(del) - 1;
	r->deleted = n >= dl && !memcmp(end - dl, del, dl);
	if (r->deleted)
		n -= dl;
	r->path = xmalloc(n + 1);
	memcpy(r->path, s, n);
	r->path[n] = '\0';
}

int maps_parse_line(const char *line, size_t len, struct maps_region *r)
{
	const char *p = line, *end = line + len;
	uint64_t dmaj, dmin;
	memset(r, 0, sizeof(*r));
	if (parse_hex(&p, end, &r->start) || expect(&p, end, '-') ||
	    parse_hex(&p, end, &r->end) || expect(&p, end, ' ') ||
	    parse_perms(&p, end, r) || expect(&p, end, ' ') ||
	    parse_hex(&p, end, &r->offset) || expect(&p, end, ' ') ||
	    parse_hex(&p, end, &dmaj) || expect(&p, end, ':') ||
	    parse_hex(&p, end, &dmin) || expect(&p, end, ' '))
		return -EINVAL;
	if (r->end < r->start)
		return -EINVAL;
	uint64_t ino = 0;
	int n = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++, n++) {
		unsigned d = (unsigned)(*p - '0');
		if (ino > (UINT64_MAX - d) / 10)
			return -EINVAL;
		ino = ino * 10 + d;
	}
	if (!n || (p < end && *p != ' '))
		return -EINVAL;
	r->dev_major = (unsigned)dmaj;
	r->dev_minor = (unsigned)dmin;
	r->inode = ino;
	set_path(r, p, end);
	r->kind = maps_classify(r);
	return 0;
}

int maps_parse(const char *text, size_t len, struct maps_region **out,
	       size_t *n)
{
	struct maps_region *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p) {
			util_grow((void **)&v, &cap, cnt + 1, sizeof(*v));
			if (maps_parse_line(p, (size_t)(le - p), &v[cnt]) < 0) {
				maps_free(v, cnt);
				return -EINVAL;
			}
			cnt++;
		}
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void maps_free(struct maps_region *regions, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(regions[i].path);
	free(regions);
}
