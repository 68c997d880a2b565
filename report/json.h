/* json.h - a small streaming JSON writer */
#ifndef COWPROF_REPORT_JSON_H
#define COWPROF_REPORT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* A key inside an object; the next call writes its value. */
void json_key(struct json *j, const char *key);
/* Strings are written as valid JSON whatever their bytes: control
 * characters are escaped and invalid UTF-8 bytes become U+FFFD. */
void json_string(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
/* A number with up to `decimals` decimals; NaN and infinities as null. */
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Shorthands for "key": value. */
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_double(struct json *j, const char *key, double v, int decimals);

#endif
