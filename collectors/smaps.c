/* smaps.c - parse /proc/PID/smaps and /proc/PID/smaps_rollup */
#include "collectors/smaps.h"
#include "common/util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define F(name, field) { name, offsetof(struct smaps_fields, field) }
static const struct {
	const char *name;
	size_t off;
} fields[] = {
	F("Size", size_kb),
	F("KernelPageSize", kernel_page_size_kb),
	F("MMUPageSize", mmu_page_size_kb),
	F("Rss", rss_kb),
	F("Pss", pss_kb),
	F("Pss_Dirty", pss_dirty_kb),
	F("Pss_Anon", pss_anon_kb),
	F("Pss_File", pss_file_kb),
	F("Pss_Shmem", pss_shmem_kb),
	F("Shared_Clean", shared_clean_kb),
	F("Shared_Dirty", shared_dirty_kb),
	F("Private_Clean", private_clean_kb),
	F("Private_Dirty", private_dirty_kb),
	F("Referenced", referenced_kb),
	F("Anonymous", anonymous_kb),
	F("KSM", ksm_kb),
	F("LazyFree", lazyfree_kb),
	F("AnonHugePages", anon_huge_pages_kb),
	F("ShmemPmdMapped", shmem_pmd_mapped_kb),
	F("FilePmdMapped", file_pmd_mapped_kb),
	F("Shared_Hugetlb", shared_hugetlb_kb),
	F("Private_Hugetlb", private_hugetlb_kb),
	F("Swap", swap_kb),
	F("SwapPss", swap_pss_kb),
	F("Locked", locked_kb),
	F("THPeligible", thp_eligible),
	F("ProtectionKey", protection_key),
};
#undef F

/* Is this line "Name: value..."? A maps header line starts with a hex
 * address followed by '-', never with a name and a colon. */
static const char *field_colon(const char *line, const char *end)
{
	const char *p = line;
	while (p < end && (*p == '_' || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
		p++;
	return p > line && p < end && *p == ':' ? p : NULL;
}

static int parse_value(const char *p, const char *end, uint64_t *v)
{
	while (p < end && *p == ' ')
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	uint64_t x = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

static void set_vmflags(struct smaps_fields *f, const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	size_t n = (size_t)(end - p);
	if (n >= sizeof(f->vmflags))
		n = sizeof(f->vmflags) - 1;
	memcpy(f->vmflags, p, n);
	f->vmflags[n] = '\0';
}

/* Apply one "Name: value" line to f. Unknown names are ignored. */
static int apply_field(struct smaps_fields *f, const char *line,
		       const char *colon, const char *end)
{
	size_t nlen = (size_t)(colon - line);
	if (nlen == 7 && !memcmp(line, "VmFlags", 7)) {
		set_vmflags(f, colon + 1, end);
		return 0;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) == nlen &&
		    !memcmp(fields[i].name, line, nlen))
			return parse_value(colon + 1, end,
					   (uint64_t *)((char *)f + fields[i].off));
	}
	return 0;
}

int smaps_rollup_parse(const char *text, size_t len, struct smaps_fields *r)
{
	memset(r, 0, sizeof(*r));
	const char *p = text, *end = text + len;
	bool have_rss = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *colon = field_colon(p, le);
		if (colon) {
			if (apply_field(r, p, colon, le) < 0)
				return -EINVAL;
			have_rss |= colon - p == 3 && !memcmp(p, "Rss", 3);
		}
		p = nl ? nl + 1 : end;
	}
	return have_rss ? 0 : -EINVAL;
}

int smaps_parse(const char *text, size_t len, struct smaps_region **out,
		size_t *n)
{
	struct smaps_region *v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *colon = field_colon(p, le);
		int r = 0;
		if (colon && cnt)
			r = apply_field(&v[cnt - 1].f, p, colon, le);
		else if (colon)
			r = -EINVAL; /* a field before any region header */
		else if (le > p) {
			util_grow((void **)&v, &cap, cnt + 1, sizeof(*v));
			memset(&v[cnt].f, 0, sizeof(v[cnt].f));
			r = maps_parse_line(p, (size_t)(le - p), &v[cnt].map);
			if (r == 0)
				cnt++;
		}
		if (r < 0) {
			smaps_free(v, cnt);
			return -EINVAL;
		}
		p = nl ? nl + 1 : end;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void smaps_free(struct smaps_region *regions, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(regions[i].map.path);
	free(regions);
}

bool smaps_has_vmflag(const struct smaps_fields *f, const char *flag)
{
	size_t fl = strlen(flag);
	for (const char *p = f->vmflags; *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if ((size_t)(e - p) == fl && !memcmp(p, flag, fl))
			return true;
		p = e;
	}
	return false;
}
