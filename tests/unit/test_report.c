/* test_report.c - every report format against golden files, and the
 * escaping that keeps each format valid whatever a session holds
 *
 * The golden files in tests/golden/ were written by these formatters from
 * the synthetic session of session_fixture.h and then read and checked by
 * hand (docs/reports.md says how). To rewrite them after a deliberate
 * change: COWPROF_UPDATE_GOLDEN=1 build/tests/test_report, then read the
 * diff. `test_report --write-session FILE` writes the golden session to
 * FILE for the integration tests.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/callsites.h"
#include "common/format.h"
#include "report/report.h"
#include "session_fixture.h"

#ifndef GOLDEN_DIR
#define GOLDEN_DIR "tests/golden"
#endif

/* ---- running a formatter into memory ---- */

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

/* Close the stream; the text stays in m->buf (freed by the caller). */
static char *mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

/* The golden session, loaded and analysed once for all golden tests. */
struct loaded {
	struct sfx x;
	struct session_data d;
	struct analysis a;
	struct report_input in;
};

static void load(struct loaded *l)
{
	sfx_load(&l->x, &l->d);
	analysis_init(&l->a, &l->d);
	l->in = (struct report_input){ &l->d, &l->a, "golden.db" };
}

static void unload(struct loaded *l)
{
	analysis_release(&l->a);
	session_data_release(&l->d);
	sfx_remove(&l->x);
}

static int golden_setup(void **state)
{
	struct loaded *l = xcalloc(1, sizeof(*l));
	sfx_write_golden(&l->x);
	load(l);
	*state = l;
	return 0;
}

static int golden_teardown(void **state)
{
	unload(*state);
	free(*state);
	return 0;
}

static char *render(const struct report_input *in, enum report_format fmt)
{
	struct mem m;
	mem_open(&m);
	assert_int_equal(report_write(m.f, fmt, in), 0);
	return mem_close(&m);
}

/* Compare text with GOLDEN_DIR/name, or write it there when
 * COWPROF_UPDATE_GOLDEN is set. Prints the first difference. */
static void check_golden(const char *text, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	if (getenv("COWPROF_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		assert_int_equal(fclose(f), 0);
		return;
	}
	char *want;
	size_t len;
	if (util_read_file(path, &want, &len) < 0)
		fail_msg("missing golden file %s", path);
	size_t i = 0;
	while (text[i] && text[i] == want[i])
		i++;
	if (text[i] || want[i]) {
		size_t line = 1;
		for (size_t k = 0; k < i; k++)
			line += want[k] == '\n';
		fprintf(stderr, "%s differs at line %zu:\n  want: %.80s\n  got:  %.80s\n",
			path, line, want + i, text + i);
	}
	assert_string_equal(text, want);
	free(want);
}

static void golden_format(void **state, enum report_format fmt, const char *name)
{
	struct loaded *l = *state;
	char *text = render(&l->in, fmt);
	check_golden(text, name);
	free(text);
}

/* ---- golden files ---- */

static void test_report_text_golden(void **state)
{
	golden_format(state, REPORT_TEXT, "report.txt");
}

static void test_report_json_golden(void **state)
{
	golden_format(state, REPORT_JSON, "report.json");
}

static void test_report_csv_golden(void **state)
{
	golden_format(state, REPORT_CSV, "report.csv");
}

static void test_report_html_golden(void **state)
{
	golden_format(state, REPORT_HTML, "report.html");
}

static void test_report_openmetrics_golden(void **state)
{
	golden_format(state, REPORT_OPENMETRICS, "report.om");
}

static void test_report_folded_golden(void **state)
{
	golden_format(state, REPORT_FOLDED, "report.folded");
}

/* Call sites merge processes and native offsets; ties go by name. */
static void test_report_callsites_top(void **state)
{
	struct loaded *l = *state;
	struct callsite top[8];
	assert_int_equal(callsites_top(&l->d, CALLSITES_TREE, true, 8, top), 2);
	assert_string_equal(l->d.frames[top[0].frame].function, "handler");
	assert_int_equal(top[0].pages, 45);
	assert_int_equal(top[0].nprocs, 2);
	assert_int_equal(callsites_top(&l->d, CALLSITES_TREE, false, 2, top), 2);
	assert_string_equal(l->d.frames[top[0].frame].function, "PyDict_SetItem");
	assert_int_equal(top[1].pages, 25);
	assert_int_equal(callsites_top(&l->d, 3, true, 8, top), 0);
	assert_int_equal(callsites_pages(&l->d, CALLSITES_TREE), 80);
	assert_int_equal(callsites_pages(&l->d, 1), 50);
	assert_int_equal(callsites_page_kb(&l->d), 4);
	assert_true(callsites_recorded(&l->d));
}

/* One line per distinct stack, root first, Python frames then the native
 * frames below the evaluation loop, weighted by pages. */
static void test_report_folded_stacks(void **state)
{
	struct loaded *l = *state;
	struct mem m;
	mem_open(&m);
	assert_int_equal(report_folded(m.f, &l->in), 4);
	char *text = mem_close(&m);
	assert_non_null(strstr(text, "server: worker 1;dispatch (app.py:10);"
				     "handler (app.py:42);PyDict_SetItem 40\n"));
	assert_non_null(strstr(text, "server: worker 1;dispatch (app.py:10) 10\n"));
	assert_non_null(strstr(text, "server: worker 3;main;libfoo.so+0x1a2b 25\n"));
	free(text);
}

static void compare_columns(struct report_column cols[2], struct sfx *x)
{
	struct session_data d;
	sfx_write_golden(&x[0]);
	sfx_write_strategy(&x[1], "gunicorn --preload -c freeze.py app:app",
			   65536, 64);
	const char *names[2] = { "golden", "freeze" };
	for (int c = 0; c < 2; c++) {
		sfx_load(&x[c], &d);
		cols[c] = (struct report_column){ .path = x[c].path, .name = names[c] };
		cols[c].target = xstrdup(analysis_target(&d));
		analysis_strategy(&d, &cols[c].s);
		session_data_release(&d);
	}
}

static void test_report_compare_text_and_json_golden(void **state)
{
	(void)state;
	struct sfx x[2];
	struct report_column cols[2];
	compare_columns(cols, x);
	struct mem m;
	mem_open(&m);
	report_compare_text(m.f, cols, 2);
	char *text = mem_close(&m);
	check_golden(text, "compare.txt");
	free(text);
	/* the paths are temporary: name the files in the JSON by column */
	cols[0].path = "golden.db";
	cols[1].path = "freeze.db";
	mem_open(&m);
	report_compare_json(m.f, cols, 2);
	text = mem_close(&m);
	check_golden(text, "compare.json");
	free(text);
	for (int c = 0; c < 2; c++) {
		free((char *)cols[c].target);
		sfx_remove(&x[c]);
	}
}

/* ---- format names ---- */

static void test_report_format_names(void **state)
{
	(void)state;
	enum report_format f;
	assert_int_equal(report_format_parse("text", &f), 0);
	assert_int_equal(f, REPORT_TEXT);
	assert_int_equal(report_format_parse("openmetrics", &f), 0);
	assert_int_equal(f, REPORT_OPENMETRICS);
	assert_int_equal(report_format_parse("folded", &f), 0);
	assert_int_equal(f, REPORT_FOLDED);
	assert_int_equal(report_format_parse("HTML", &f), -EINVAL);
	assert_int_equal(report_format_parse("", &f), -EINVAL);
	assert_string_equal(report_format_names(),
			    "text, json, csv, html, openmetrics, folded");
}

static void test_report_column_name_is_base_name_without_db(void **state)
{
	(void)state;
	const char *cases[][2] = {
		{ "/tmp/runs/preload.db", "preload" }, { "freeze.db", "freeze" },
		{ "dir/session", "session" }, { ".db", ".db" }, { "a/b.db.db", "b.db" },
		{ "trailing/", "trailing/" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = report_column_name(cases[i][0]);
		assert_string_equal(n, cases[i][1]);
		free(n);
	}
}

/* ---- escaping ---- */

static char *put(void (*fn)(FILE *, const char *), const char *s)
{
	struct mem m;
	mem_open(&m);
	fn(m.f, s);
	return mem_close(&m);
}

static void check_put(void (*fn)(FILE *, const char *), const char *s,
		      const char *want)
{
	char *got = put(fn, s);
	assert_string_equal(got, want);
	free(got);
}

static void test_report_html_escapes_markup(void **state)
{
	(void)state;
	check_put(report_put_html, "a<b>&\"c\" 'd'",
		  "a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39;");
	check_put(report_put_html, "", "");
	check_put(report_put_html, "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");
}

static void test_report_html_replaces_control_and_invalid_bytes(void **state)
{
	(void)state;
	/* tab and newline are allowed in XML; ESC, BEL, DEL are not */
	check_put(report_put_html, "a\tb\nc\x1b[31md\x07\x7f",
		  "a\tb\nc\xef\xbf\xbd[31md\xef\xbf\xbd\xef\xbf\xbd");
	/* a lone continuation byte, a truncated sequence, an overlong slash,
	 * a surrogate */
	check_put(report_put_html, "x\x80y\xe2\x82z\xc0\xafw\xed\xa0\x80v",
		  "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd"
		  "w\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdv");
}

static void test_report_openmetrics_label_escapes(void **state)
{
	(void)state;
	check_put(report_put_om_label, "a\"b\\c\nd", "a\\\"b\\\\c\\nd");
	check_put(report_put_om_label, "gunicorn: worker [app]", "gunicorn: worker [app]");
	check_put(report_put_om_label, "bad\xff", "bad\xef\xbf\xbd");
}

static void test_report_csv_quotes_when_needed(void **state)
{
	(void)state;
	check_put(report_put_csv, "plain text", "plain text");
	check_put(report_put_csv, "a,b", "\"a,b\"");
	check_put(report_put_csv, "say \"hi\"", "\"say \"\"hi\"\"\"");
	check_put(report_put_csv, "two\nlines", "\"two\nlines\"");
	check_put(report_put_csv, "", "");
}

static void put_text(FILE *f, const char *s)
{
	format_put_text(f, s, SIZE_MAX);
}

static void put_text_4(FILE *f, const char *s)
{
	format_put_text(f, s, 4);
}

static void test_report_text_hides_control_characters(void **state)
{
	(void)state;
	check_put(put_text, "ok\x1b]0;title\x07\n", "ok?]0;title??");
	/* C1 controls: terminals obey CSI (U+009B) as ESC [, as UTF-8 or as a
	 * raw byte; the byte alone is not UTF-8 either */
	check_put(put_text, "a\xc2\x9b" "2J", "a?2J");
	check_put(put_text, "a\x9b" "2J", "a?2J");
	check_put(put_text, "a\xc2\x85z\x7f", "a?z?");
	check_put(put_text, "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0.", "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0.");
	check_put(put_text, "bad\xff\xe2\x82", "bad???");
	check_put(put_text_4, "\xc3\xa9t\xc3\xa9s", "\xc3\xa9t\xc3\xa9s");
	check_put(put_text_4, "\xc3\xa9t\xc3\xa9s!", "\xc3\xa9t\xc3\xa9s");
}

static void test_format_utf8_len_rejects_invalid_forms(void **state)
{
	(void)state;
	assert_int_equal(format_utf8_len((const unsigned char *)"a"), 1);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xc3\xa9"), 2);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xe2\x82\xac"), 3);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xf0\x9f\x90\x84"), 4);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xc1\xbf"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xe0\x80\xaf"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xf0\x80\x80\xaf"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xed\xbf\xbf"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xf4\x90\x80\x80"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xff"), 0);
	assert_int_equal(format_utf8_len((const unsigned char *)"\xe2\x82"), 0);
}

static void test_report_duration_units(void **state)
{
	(void)state;
	char b[24];
	assert_string_equal(report_duration(0, b, sizeof(b)), "0.0s");
	assert_string_equal(report_duration(9.54, b, sizeof(b)), "9.5s");
	assert_string_equal(report_duration(59.9, b, sizeof(b)), "59.9s");
	assert_string_equal(report_duration(59.96, b, sizeof(b)), "1m00s");
	assert_string_equal(report_duration(725, b, sizeof(b)), "12m05s");
	assert_string_equal(report_duration(3 * 3600 + 125, b, sizeof(b)), "3h02m");
	assert_string_equal(report_duration(-4, b, sizeof(b)), "0.0s");
	assert_string_equal(report_duration(NAN, b, sizeof(b)), "0.0s");
}

static void test_report_utc_format(void **state)
{
	(void)state;
	char b[40];
	assert_string_equal(report_utc(SFX_T0 + 0.75, b, sizeof(b)),
			    "2023-11-14 22:13:20 UTC");
}

/* ---- sessions with awkward content ---- */

/* A session whose strings hold every character that needs escaping. */
static void write_nasty(struct sfx *x)
{
	sfx_open(x);
	sfx_meta(x, "hostname", "host</td><script>alert(1)</script>");
	sfx_meta(x, "target", "evil \"cmd\"\nwith\\newline\x1b[2J\xff");
	sfx_proc(x, 0, 10, 1, -1, -5, "root, \"quoted\"\nline2\x01\xfe");
	sfx_proc(x, 1, 11, 10, 0, 0.5, "]]></x><!-- & -->");
	sfx_region(x, 1, 0, 0x1000, 0x3000, "rw-p", "file", "/tmp/<a & b>\n\"c\"");
	for (int k = 0; k < 3; k++) {
		sfx_sample(x, k, 2, 300, 200);
		sfx_point_cow(x, 0, 0, 0, 100);
		struct cow_figures f = { .rss_kb = 100, .anon_kb = 100,
					 .shared_with_parent_kb = 100 - 8 * (uint64_t)k,
					 .copied_kb = 8 * (uint64_t)k };
		sfx_point(x, 1, 'S', &f);
		sfx_region_point(x, 1, 0, &f);
		sfx_end_sample(x);
	}
	sfx_event(x, 1.5, -1, 0, "end", "<b>&amp;</b>");
	sfx_close(x);
}

static void assert_valid_utf8_no_controls(const char *s, bool newline_ok)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = format_utf8_len(p);
		assert_int_not_equal(n, 0);
		if (n == 1 && *p < 0x20)
			assert_true(*p == '\n' ? newline_ok : *p == '\t');
		p += n;
	}
}

static void test_report_html_of_nasty_strings_has_no_raw_markup(void **state)
{
	(void)state;
	struct loaded l;
	write_nasty(&l.x);
	load(&l);
	char *html = render(&l.in, REPORT_HTML);
	assert_valid_utf8_no_controls(html, true);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "]]>"));
	assert_null(strstr(html, "<!--"));
	assert_null(strstr(html, "<b>"));
	assert_non_null(strstr(html, "&lt;script&gt;"));
	assert_non_null(strstr(html, "/tmp/&lt;a &amp; b&gt;"));
	free(html);
	unload(&l);
}

/* Every line of an OpenMetrics text: a # line or one sample whose label
 * values hold no raw newline or unescaped quote. */
static void test_report_openmetrics_of_nasty_strings_stays_line_based(void **state)
{
	(void)state;
	struct loaded l;
	write_nasty(&l.x);
	load(&l);
	char *om = render(&l.in, REPORT_OPENMETRICS);
	assert_valid_utf8_no_controls(om, true);
	size_t lines = 0;
	for (char *line = om, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		lines++;
		assert_true(line[0] == '#' || !strncmp(line, "cowprof_", 8));
		/* quotes inside a sample line: an even number outside escapes */
		int quotes = 0;
		for (char *c = line; c < nl; c++) {
			if (*c == '\\')
				c++;
			else if (*c == '"')
				quotes++;
		}
		assert_int_equal(quotes % 2, 0);
	}
	assert_true(lines > 10);
	assert_non_null(strstr(om, "command=\"root, \\\"quoted\\\"\\nline2"
				   "\xef\xbf\xbd\xef\xbf\xbd\"}"));
	assert_int_equal(strcmp(om + strlen(om) - 6, "# EOF\n"), 0);
	free(om);
	unload(&l);
}

static void test_report_csv_of_nasty_strings_quotes_fields(void **state)
{
	(void)state;
	struct loaded l;
	write_nasty(&l.x);
	load(&l);
	char *csv = render(&l.in, REPORT_CSV);
	assert_non_null(strstr(csv, ",\"root, \"\"quoted\"\"\nline2\x01\xfe\"\n"));
	assert_non_null(strstr(csv, ",]]></x><!-- & -->\n"));
	free(csv);
	unload(&l);
}

static void test_report_text_of_nasty_strings_has_no_escape_sequences(void **state)
{
	(void)state;
	struct loaded l;
	write_nasty(&l.x);
	load(&l);
	char *text = render(&l.in, REPORT_TEXT);
	assert_null(strchr(text, '\x1b'));
	assert_null(strchr(text, '\x01'));
	assert_non_null(strstr(text, "evil \"cmd\"?with\\newline?[2J"));
	free(text);
	unload(&l);
}

static void test_report_empty_session_in_every_format(void **state)
{
	(void)state;
	struct loaded l;
	sfx_open(&l.x);
	sfx_close(&l.x);
	load(&l);
	char *text = render(&l.in, REPORT_TEXT);
	assert_non_null(strstr(text, "recorded   no samples\n"));
	assert_non_null(strstr(text, "no region copied anything"));
	free(text);
	char *om = render(&l.in, REPORT_OPENMETRICS);
	assert_string_equal(om, "# EOF\n");
	free(om);
	char *csv = render(&l.in, REPORT_CSV);
	assert_string_equal(csv, "time,offset_s,pid,ppid,role,state,rss_kb,pss_kb,"
			    "uss_kb,swap_kb,anon_kb,shmem_kb,file_kb,"
			    "shared_with_parent_kb,copied_kb,new_kb,"
			    "shared_anywhere_kb,cmd\n");
	free(csv);
	char *json = render(&l.in, REPORT_JSON);
	assert_non_null(strstr(json, "\"processes\":[],\"tree\":[],\"regions\":[],"
				     "\"faults\":null,\"why\":{\"hung_after_s\":10.000,"
				     "\"hung\":0,\"killed\":0,\"signals_source\":"
				     "\"not recorded\",\"oom_kills_source\":\"not recorded\","
				     "\"signals\":[],\"oom_kills\":[]},\"events\":[]}\n"));
	free(json);
	char *html = render(&l.in, REPORT_HTML);
	assert_non_null(strstr(html, "</body>\n</html>\n"));
	free(html);
	unload(&l);
}

static void test_report_write_reports_write_errors(void **state)
{
	struct loaded *l = *state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(report_write(f, REPORT_TEXT, &l->in), -EIO);
	fclose(f);
}

/* `test_report --write-session FILE`: the golden session, for scripts. */
static int write_session(const char *path)
{
	struct sfx x;
	char *buf = NULL;
	size_t len = 0;
	sfx_write_golden(&x);
	int r = util_read_file(x.path, &buf, &len);
	FILE *f = r == 0 ? fopen(path, "wx") : NULL;
	if (!f || fwrite(buf, 1, len, f) != len)
		r = -1;
	if (f && fclose(f) != 0)
		r = -1;
	if (r < 0)
		fprintf(stderr, "test_report: cannot write %s\n", path);
	free(buf);
	sfx_remove(&x);
	return r < 0;
}

/* A test that reads the golden session, written afresh for it. */
#define GOLDEN(t) cmocka_unit_test_setup_teardown(t, golden_setup, golden_teardown)

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-session"))
		return write_session(argv[2]);
	const struct CMUnitTest tests[] = {
		GOLDEN(test_report_text_golden),
		GOLDEN(test_report_json_golden),
		GOLDEN(test_report_csv_golden),
		GOLDEN(test_report_html_golden),
		GOLDEN(test_report_openmetrics_golden),
		GOLDEN(test_report_folded_golden),
		GOLDEN(test_report_folded_stacks),
		GOLDEN(test_report_callsites_top),
		GOLDEN(test_report_write_reports_write_errors),
		cmocka_unit_test(test_report_compare_text_and_json_golden),
		cmocka_unit_test(test_report_format_names),
		cmocka_unit_test(test_report_column_name_is_base_name_without_db),
		cmocka_unit_test(test_report_html_escapes_markup),
		cmocka_unit_test(test_report_html_replaces_control_and_invalid_bytes),
		cmocka_unit_test(test_report_openmetrics_label_escapes),
		cmocka_unit_test(test_report_csv_quotes_when_needed),
		cmocka_unit_test(test_report_text_hides_control_characters),
		cmocka_unit_test(test_format_utf8_len_rejects_invalid_forms),
		cmocka_unit_test(test_report_duration_units),
		cmocka_unit_test(test_report_utc_format),
		cmocka_unit_test(test_report_html_of_nasty_strings_has_no_raw_markup),
		cmocka_unit_test(test_report_openmetrics_of_nasty_strings_stays_line_based),
		cmocka_unit_test(test_report_csv_of_nasty_strings_quotes_fields),
		cmocka_unit_test(test_report_text_of_nasty_strings_has_no_escape_sequences),
		cmocka_unit_test(test_report_empty_session_in_every_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
