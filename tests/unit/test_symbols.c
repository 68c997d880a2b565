/* test_symbols.c - ELF symbol cache: addresses of real binaries to names
 *
 * The ELF files are built by the Makefile from tests/unit/symtarget/:
 * build/symtarget/symtarget (PIE, -O2 -g, globals exported), its nm listing,
 * a stripped copy and a non-PIE build. Expected addresses come from nm and
 * from the running program, never from the module under test.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "collectors/maps.h"
#include "collectors/symbols.h"
#include "fixture.h"

#define TARGET "build/symtarget/symtarget"

/* ---- what nm and the program headers say, read without the module ---- */

struct nm_sym {
	uint64_t addr, size;
	char type;
};

/* The symbol called name in nm listing file, or false if absent. */
static bool nm_find(const char *listing, const char *name, struct nm_sym *out)
{
	char *text;
	size_t len;
	if (util_read_file(listing, &text, &len) < 0)
		fail_msg("cannot read %s", listing);
	bool found = false;
	for (char *line = strtok(text, "\n"); line && !found;
	     line = strtok(NULL, "\n")) {
		char n[256];
		uint64_t a, sz = 0;
		char t;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %255s", &a, &sz, &t,
			   n) == 4 ||
		    (sz = 0, sscanf(line, "%" SCNx64 " %c %255s", &a, &t, n) == 3)) {
			if (!strcmp(n, name)) {
				*out = (struct nm_sym){ a, sz, t };
				found = true;
			}
		}
	}
	free(text);
	return found;
}

static struct nm_sym nm_need(const char *listing, const char *name)
{
	struct nm_sym s;
	if (!nm_find(listing, name, &s))
		fail_msg("%s not in %s", name, listing);
	return s;
}

/* The file offset of ELF virtual address va, from the PT_LOAD headers read
 * with <elf.h> (an implementation independent of the module). */
static uint64_t file_offset_of(const char *path, uint64_t va)
{
	char *img;
	size_t len;
	if (util_read_file(path, &img, &len) < 0)
		fail_msg("cannot read %s", path);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	uint64_t off = UINT64_MAX;
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff +
							     i * eh->e_phentsize);
		if (ph->p_type == PT_LOAD && va >= ph->p_vaddr &&
		    va < ph->p_vaddr + ph->p_filesz)
			off = va - ph->p_vaddr + ph->p_offset;
	}
	free(img);
	if (off == UINT64_MAX)
		fail_msg("0x%" PRIx64 " in no PT_LOAD of %s", va, path);
	return off;
}

/* Resolve the address nm gives name (+ delta) in path, by file offset. */
static struct symbols_frame resolve_nm(struct symbols *s, const char *path,
				       const char *name, uint64_t delta)
{
	char listing[256];
	snprintf(listing, sizeof(listing), "%s.nm", path);
	struct nm_sym n = nm_need(listing, name);
	struct symbols_frame f;
	assert_int_equal(symbols_resolve(s, path, file_offset_of(path, n.addr +
				delta), &f), 0);
	return f;
}

static void check_named(struct symbols *s, const char *path, const char *name,
			uint64_t delta)
{
	struct symbols_frame f = resolve_nm(s, path, name, delta);
	if (!f.function || strcmp(f.function, name))
		fail_msg("%s+%" PRIu64 " in %s: got %s", name, delta, path,
			 f.function ? f.function : "(null)");
	assert_int_equal(f.func_offset, delta);
	assert_string_equal(f.module, path);
}

/* ---- by file offset ---- */

static void test_symbols_resolve_names_pie_functions_at_nm_addresses(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	const char *names[] = { "symtarget_leaf", "symtarget_static",
				"symtarget_outer", "main", "_start" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct nm_sym n = nm_need(TARGET ".nm", names[i]);
		check_named(s, TARGET, names[i], 0);
		check_named(s, TARGET, names[i], n.size / 2);
		check_named(s, TARGET, names[i], n.size - 1);
	}
	symbols_free(s);
}

static void test_symbols_resolve_ends_a_function_at_its_size(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	struct nm_sym n = nm_need(TARGET ".nm", "symtarget_leaf");
	struct symbols_frame f = resolve_nm(s, TARGET, "symtarget_leaf", n.size);
	assert_true(!f.function || strcmp(f.function, "symtarget_leaf") != 0);
	symbols_free(s);
}

static void test_symbols_resolve_translates_non_pie_offsets(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	struct nm_sym n = nm_need(TARGET "-nopie.nm", "symtarget_outer");
	/* the text segment of a non-PIE binary is at 0x401000, offset 0x1000 */
	assert_true(n.addr > 0x400000);
	assert_int_not_equal(file_offset_of(TARGET "-nopie", n.addr), n.addr);
	check_named(s, TARGET "-nopie", "symtarget_outer", 0);
	check_named(s, TARGET "-nopie", "symtarget_static", 5);
	check_named(s, TARGET "-nopie", "main", 1);
	symbols_free(s);
}

static void test_symbols_inlined_function_resolves_to_its_caller(void **state)
{
	(void)state;
	struct nm_sym n;
	assert_false(nm_find(TARGET ".nm", "symtarget_inlined", &n));
	/* every byte of symtarget_outer, inlined code included, is its own */
	struct symbols *s = symbols_new();
	struct nm_sym outer = nm_need(TARGET ".nm", "symtarget_outer");
	for (uint64_t d = 0; d < outer.size; d++)
		check_named(s, TARGET, "symtarget_outer", d);
	symbols_free(s);
}

static void test_symbols_stripped_copy_knows_only_exported_functions(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	const char *stripped = TARGET "-stripped";
	/* same layout as the unstripped file, whose nm gives the addresses */
	struct nm_sym leaf = nm_need(TARGET ".nm", "symtarget_leaf");
	struct nm_sym st = nm_need(TARGET ".nm", "symtarget_static");
	struct symbols_frame f;
	assert_int_equal(symbols_resolve(s, stripped,
			 file_offset_of(stripped, leaf.addr + 3), &f), 0);
	assert_non_null(f.function);
	assert_string_equal(f.function, "symtarget_leaf");
	assert_int_equal(f.func_offset, 3);
	assert_null(f.source_file);
	assert_int_equal(symbols_resolve(s, stripped,
			 file_offset_of(stripped, st.addr + 3), &f), 0);
	assert_null(f.function);
	assert_int_equal(f.func_offset, 0);
	assert_string_equal(f.module, stripped);
	symbols_free(s);
}

static void test_symbols_stripped_copy_is_completed_by_its_debug_file(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	symbols_set_debug_dir(s, "build/symtarget/debug");
	const char *stripped = TARGET "-stripped";
	struct nm_sym st = nm_need(TARGET ".nm", "symtarget_static");
	struct symbols_frame f, full;
	assert_int_equal(symbols_resolve(s, stripped,
			 file_offset_of(stripped, st.addr + 3), &f), 0);
	assert_non_null(f.function);
	assert_string_equal(f.function, "symtarget_static");
	assert_int_equal(f.func_offset, 3);
	/* the same line as the unstripped file's own DWARF gives */
	assert_int_equal(symbols_resolve(s, TARGET,
			 file_offset_of(TARGET, st.addr + 3), &full), 0);
	assert_non_null(f.source_file);
	assert_string_equal(f.source_file, full.source_file);
	assert_int_equal(f.line, full.line);
	assert_true(f.line > 0);
	symbols_free(s);
}

static void test_symbols_resolve_gives_source_line_from_dwarf(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	struct symbols_frame f = resolve_nm(s, TARGET, "symtarget_static", 0);
	assert_non_null(f.source_file);
	const char *tail = "tests/unit/symtarget/symtarget.c";
	size_t n = strlen(f.source_file);
	assert_true(n >= strlen(tail));
	assert_string_equal(f.source_file + n - strlen(tail), tail);
	/* the function's opening line (the line after its attribute line) */
	char *src = fixture_read("../unit/symtarget/symtarget.c", NULL);
	int line = 1;
	const char *p = src, *decl = strstr(src, "int symtarget_static(int x)");
	assert_non_null(decl);
	for (; p < decl; p++)
		line += *p == '\n';
	free(src);
	assert_in_range(f.line, line, line + 2);
	symbols_free(s);
}

static void test_symbols_resolve_reports_missing_and_non_elf_files(void **state)
{
	(void)state;
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	for (int i = 0; i < 2; i++) {   /* the second time from the cache */
		assert_int_equal(symbols_resolve(s, "/nonexistent/lib.so", 0x10,
						 &f), -ENOENT);
		assert_string_equal(f.module, "/nonexistent/lib.so");
		assert_int_equal(f.module_offset, 0x10);
		assert_null(f.function);
		assert_int_equal(symbols_resolve(s, TARGET ".nm", 0x10, &f),
				 -ENOEXEC);
		assert_null(f.function);
		assert_int_equal(symbols_resolve(s, "/dev/null", 0, &f), -ENOEXEC);
	}
	/* an offset past every segment: the file is fine, the address unknown */
	assert_int_equal(symbols_resolve(s, TARGET, 1 << 30, &f), 0);
	assert_null(f.function);
	symbols_free(s);
}

/* ---- mappings of a captured python process (tests/fixtures) ---- */

static void load_maps(const char *rel, struct maps_region **maps, size_t *n)
{
	size_t len;
	char *text = fixture_read(rel, &len);
	assert_int_equal(maps_parse(text, len, maps, n), 0);
	free(text);
}

static void test_symbols_find_mapping_in_python_maps(void **state)
{
	(void)state;
	struct maps_region *m;
	size_t n;
	load_maps("proc/gunicorn/10806/maps", &m, &n);
	const struct maps_region *r = symbols_find_mapping(m, n, 0x41f000);
	assert_non_null(r);
	assert_string_equal(r->path, "/usr/bin/python3.11");
	assert_int_equal(r->offset, 0x1f000);
	r = symbols_find_mapping(m, n, 0x6d1fff);
	assert_non_null(r);
	assert_int_equal(r->start, 0x41f000);
	assert_int_equal(symbols_find_mapping(m, n, 0x6d2000)->offset, 0x2d2000);
	assert_null(symbols_find_mapping(m, n, 0x3fffff));
	assert_null(symbols_find_mapping(m, n, 0));
	assert_null(symbols_find_mapping(m, n, UINT64_MAX));
	r = symbols_find_mapping(m, n, 0x7fd66b0a0123);
	assert_non_null(r);
	assert_string_equal(r->path, "/usr/lib/python3.11/lib-dynload/"
			    "_decimal.cpython-311-x86_64-linux-gnu.so");
	assert_null(symbols_find_mapping(m, 0, 0x41f000));
	maps_free(m, n);
}

static void test_symbols_resolve_ip_gives_module_and_file_offset(void **state)
{
	(void)state;
	struct maps_region *m;
	size_t n;
	load_maps("proc/gunicorn/10806/maps", &m, &n);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	/* the interpreter's text: offset 0x1f000 at 0x41f000 */
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x41f123, &f), 0);
	assert_string_equal(f.module, "/usr/bin/python3.11");
	assert_int_equal(f.module_offset, 0x1f123);
	/* an extension module's text: offset 0x6000 at 0x7fd66b0a0000 */
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x7fd66b0a0123, &f), 0);
	assert_int_equal(f.module_offset, 0x6123);
	assert_string_equal(f.module, "/usr/lib/python3.11/lib-dynload/"
			    "_decimal.cpython-311-x86_64-linux-gnu.so");
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x052f6010, &f), 0);
	assert_string_equal(f.module, "[heap]");
	assert_int_equal(f.module_offset, 0x10);
	assert_null(f.function);
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x3fffff, &f), -ENOENT);
	assert_null(f.module);
	assert_null(f.function);
	symbols_free(s);
	maps_free(m, n);
}

static void test_symbols_resolve_ip_names_special_mappings(void **state)
{
	(void)state;
	struct maps_region *m;
	size_t n;
	load_maps("proc/special_maps/11299/maps", &m, &n);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x7fe6273ee010, &f), 0);
	assert_string_equal(f.module, "[anon]");
	assert_int_equal(f.module_offset, 0x10);
	/* deleted, and no pid to reach the mapped file through */
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x7fe6273a6010, &f), 0);
	assert_string_equal(f.module, "/tmp/fth/specialdir/deleted.bin (deleted)");
	assert_null(f.function);
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0xffffffffff600000ULL,
					    &f), 0);
	assert_string_equal(f.module, "[vsyscall]");
	assert_int_equal(symbols_resolve_ip(s, 0, m, n, 0x7fe627606010, &f), 0);
	assert_string_equal(f.module, "[vdso]");
	assert_int_equal(f.module_offset, 0x10);
	symbols_free(s);
	maps_free(m, n);
}

/* ---- a running process ---- */

struct target {
	pid_t pid;
	int in_fd;                /* its stdin: closing it ends it */
	uint64_t leaf, st, outer, main_fn, ret_in_outer;
	int inlined_call_line;
	struct maps_region *maps;
	size_t nmaps;
};

/* Start path, read its "name 0xADDR" lines until "ready", read its maps. */
static void target_start(const char *path, struct target *t)
{
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	t->pid = fork();
	assert_true(t->pid >= 0);
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in_fd = in[1];
	FILE *fp = fdopen(out[0], "r");
	char name[64];
	uint64_t v;
	while (fscanf(fp, "%63s", name) == 1 && strcmp(name, "ready")) {
		if (!strcmp(name, "inlined_call_line")) {
			assert_int_equal(fscanf(fp, "%d", &t->inlined_call_line), 1);
			continue;
		}
		assert_int_equal(fscanf(fp, "%" SCNx64, &v), 1);
		if (!strcmp(name, "symtarget_leaf"))
			t->leaf = v;
		else if (!strcmp(name, "symtarget_static"))
			t->st = v;
		else if (!strcmp(name, "symtarget_outer"))
			t->outer = v;
		else if (!strcmp(name, "main"))
			t->main_fn = v;
		else if (!strcmp(name, "return_in_outer"))
			t->ret_in_outer = v;
	}
	fclose(fp);
	assert_string_equal(name, "ready");
	char mpath[64], *text;
	size_t len;
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)t->pid);
	assert_int_equal(util_read_file(mpath, &text, &len), 0);
	assert_int_equal(maps_parse(text, len, &t->maps, &t->nmaps), 0);
	free(text);
}

static void target_stop(struct target *t)
{
	close(t->in_fd);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	maps_free(t->maps, t->nmaps);
}

static void check_ip(struct symbols *s, pid_t pid, const struct target *t,
		     uint64_t ip, const char *want, uint64_t want_off)
{
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, pid, t->maps, t->nmaps, ip, &f), 0);
	if (!f.function || strcmp(f.function, want))
		fail_msg("0x%" PRIx64 " in %s: got %s, want %s", ip, f.module,
			 f.function ? f.function : "(null)", want);
	assert_int_equal(f.func_offset, want_off);
}

static void test_symbols_resolve_ip_names_a_running_pie(void **state)
{
	(void)state;
	struct target t = { 0 };
	target_start(TARGET, &t);
	struct symbols *s = symbols_new();
	/* a PIE loads far from its link-time addresses */
	assert_true(t.leaf > 0x10000000);
	check_ip(s, 0, &t, t.leaf, "symtarget_leaf", 0);
	check_ip(s, 0, &t, t.leaf + 7, "symtarget_leaf", 7);
	check_ip(s, 0, &t, t.st, "symtarget_static", 0);
	check_ip(s, 0, &t, t.outer + 1, "symtarget_outer", 1);
	check_ip(s, 0, &t, t.main_fn, "main", 0);
	/* the call in the inlined function: its caller's name, its own line */
	check_ip(s, 0, &t, t.ret_in_outer - 1, "symtarget_outer",
		 t.ret_in_outer - 1 - t.outer);
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, 0, t.maps, t.nmaps,
					    t.ret_in_outer - 1, &f), 0);
	assert_int_equal(f.line, t.inlined_call_line);
	assert_non_null(strstr(f.source_file, "symtarget.c"));
	assert_non_null(strstr(f.module, "build/symtarget/symtarget"));
	symbols_free(s);
	target_stop(&t);
}

/* This test's own vDSO, found through the dynamic linker. */
static void test_symbols_resolve_ip_names_vdso_functions(void **state)
{
	(void)state;
	void *h = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		skip();
	uint64_t fn = (uint64_t)(uintptr_t)dlsym(h, "__vdso_clock_gettime");
	dlclose(h);
	assert_true(fn != 0);
	struct maps_region *m;
	size_t n;
	char *text;
	size_t len;
	assert_int_equal(util_read_file("/proc/self/maps", &text, &len), 0);
	assert_int_equal(maps_parse(text, len, &m, &n), 0);
	free(text);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, getpid(), m, n, fn + 2, &f), 0);
	assert_string_equal(f.module, "[vdso]");
	assert_non_null(f.function);
	if (strcmp(f.function, "__vdso_clock_gettime") &&
	    strcmp(f.function, "clock_gettime"))
		fail_msg("vdso function %s", f.function);
	assert_int_equal(f.func_offset, 2);
	symbols_free(s);
	maps_free(m, n);
}

/* Copy src to dst (mode 0755). */
static void copy_file(const char *src, const char *dst)
{
	char *buf;
	size_t len;
	assert_int_equal(util_read_file(src, &buf, &len), 0);
	FILE *fp = fopen(dst, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(dst, 0755), 0);
	free(buf);
}

static void test_symbols_reads_a_deleted_binary_through_map_files(void **state)
{
	(void)state;
	char path[] = "build/symtarget/deletedXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	copy_file(TARGET, path);
	struct target t = { 0 };
	target_start(path, &t);
	assert_int_equal(unlink(path), 0);
	/* maps were read before the unlink: read them again */
	maps_free(t.maps, t.nmaps);
	char mpath[64], *text;
	size_t len;
	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", (int)t.pid);
	assert_int_equal(util_read_file(mpath, &text, &len), 0);
	assert_int_equal(maps_parse(text, len, &t.maps, &t.nmaps), 0);
	free(text);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, 0, t.maps, t.nmaps, t.st, &f), 0);
	assert_null(f.function);
	assert_non_null(strstr(f.module, " (deleted)"));
	symbols_free(s);
	if (geteuid() == 0) {   /* map_files needs CAP_SYS_ADMIN */
		s = symbols_new();
		check_ip(s, t.pid, &t, t.st + 4, "symtarget_static", 4);
		check_ip(s, t.pid, &t, t.leaf, "symtarget_leaf", 0);
		symbols_free(s);
	}
	target_stop(&t);
}

static void test_symbols_ignores_a_binary_replaced_at_its_path(void **state)
{
	(void)state;
	char path[] = "build/symtarget/replacedXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	copy_file(TARGET, path);
	struct target t = { 0 };
	target_start(path, &t);
	/* a new inode at the same path: the stripped copy, which lacks the
	 * static function, so reading it by path would show */
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	copy_file(TARGET "-stripped", tmp);
	assert_int_equal(rename(tmp, path), 0);
	struct symbols *s = symbols_new();
	struct symbols_frame f;
	assert_int_equal(symbols_resolve_ip(s, 0, t.maps, t.nmaps, t.leaf, &f), 0);
	assert_null(f.function);
	assert_non_null(strstr(f.module, path));   /* maps give it absolute */
	assert_null(strstr(f.module, "(deleted)"));
	symbols_free(s);
	if (geteuid() == 0) {
		s = symbols_new();
		check_ip(s, t.pid, &t, t.st, "symtarget_static", 0);
		symbols_free(s);
	}
	target_stop(&t);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symbols_resolve_names_pie_functions_at_nm_addresses),
		cmocka_unit_test(test_symbols_resolve_ends_a_function_at_its_size),
		cmocka_unit_test(test_symbols_resolve_translates_non_pie_offsets),
		cmocka_unit_test(test_symbols_inlined_function_resolves_to_its_caller),
		cmocka_unit_test(test_symbols_stripped_copy_knows_only_exported_functions),
		cmocka_unit_test(test_symbols_stripped_copy_is_completed_by_its_debug_file),
		cmocka_unit_test(test_symbols_resolve_gives_source_line_from_dwarf),
		cmocka_unit_test(test_symbols_resolve_reports_missing_and_non_elf_files),
		cmocka_unit_test(test_symbols_find_mapping_in_python_maps),
		cmocka_unit_test(test_symbols_resolve_ip_gives_module_and_file_offset),
		cmocka_unit_test(test_symbols_resolve_ip_names_special_mappings),
		cmocka_unit_test(test_symbols_resolve_ip_names_a_running_pie),
		cmocka_unit_test(test_symbols_resolve_ip_names_vdso_functions),
		cmocka_unit_test(test_symbols_reads_a_deleted_binary_through_map_files),
		cmocka_unit_test(test_symbols_ignores_a_binary_replaced_at_its_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
