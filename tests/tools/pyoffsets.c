/* pyoffsets.c - print the 3.11 offsets struct pyframe_layout holds, as the
 * real CPython headers give them: one "FIELD VALUE" line per field, FIELD
 * named as in struct pyframe_layout. Built against python3.11-dev's internal
 * headers (Py_BUILD_CORE); test_pyframe compares its output with
 * pyframe_layout_init_311. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>

#include <stdio.h>
#include <string.h>

#define P(field, type, member) \
	printf("%s %zu\n", #field, offsetof(type, member))

int main(void)
{
	printf("version_hex %lu\n", (unsigned long)PY_VERSION_HEX);
	P(off_runtime_interp_head, _PyRuntimeState, interpreters.head);
	P(off_interp_tstate_head, PyInterpreterState, threads.head);
	P(off_tstate_next, PyThreadState, next);
	P(off_tstate_native_tid, PyThreadState, native_thread_id);
	P(off_tstate_cframe, PyThreadState, cframe);
	P(off_cframe_current_frame, _PyCFrame, current_frame);
	P(off_frame_code, _PyInterpreterFrame, f_code);
	P(off_frame_previous, _PyInterpreterFrame, previous);
	P(off_frame_prev_instr, _PyInterpreterFrame, prev_instr);
	P(off_frame_owner, _PyInterpreterFrame, owner);
	P(off_code_filename, PyCodeObject, co_filename);
	P(off_code_name, PyCodeObject, co_name);
	P(off_code_qualname, PyCodeObject, co_qualname);
	P(off_code_linetable, PyCodeObject, co_linetable);
	P(off_code_firstlineno, PyCodeObject, co_firstlineno);
	P(off_code_code_adaptive, PyCodeObject, co_code_adaptive);
	P(off_bytes_size, PyVarObject, ob_size);
	P(off_bytes_data, PyBytesObject, ob_sval);
	P(off_runtime_tstate_current, _PyRuntimeState, gilstate.tstate_current);
	P(off_interp_next, PyInterpreterState, next);
	P(off_tstate_interp, PyThreadState, interp);
	P(off_code_firsttraceable, PyCodeObject, _co_firsttraceable);
	P(off_object_type, PyObject, ob_type);
	P(off_unicode_length, PyASCIIObject, length);
	P(off_unicode_state, PyASCIIObject, state);
	printf("off_unicode_ascii_data %zu\n", sizeof(PyASCIIObject));
	printf("off_unicode_compact_data %zu\n", sizeof(PyCompactUnicodeObject));
	P(off_unicode_compact_data, PyUnicodeObject, data.any);
	printf("frame_owned_by_generator %d\n", FRAME_OWNED_BY_GENERATOR);
	/* the bit positions of PyASCIIObject.state that copy_str decodes */
	PyASCIIObject a;
	unsigned int bits;
	memset(&a, 0, sizeof(a));
	a.state.kind = 4;
	a.state.compact = 1;
	a.state.ready = 1;
	memcpy(&bits, &a.state, sizeof(bits));
	printf("unicode_state_kind4_compact_ready %u\n", bits);
	a.state.kind = 1;
	a.state.ascii = 1;
	memcpy(&bits, &a.state, sizeof(bits));
	printf("unicode_state_kind1_ascii_compact_ready %u\n", bits);
	printf("codeunit_size %zu\n", sizeof(_Py_CODEUNIT));
	return 0;
}
