/* symtarget.c - a small PIE with known functions, resolved by test_symbols
 *
 * Built -O2 -g as a PIE exporting its global functions (-rdynamic), plus a
 * stripped copy. It prints the run-time address of its functions, one
 * "name 0xADDR" line each, then waits until stdin closes, so the test can
 * read its /proc/PID/maps while it runs.
 */
#include <stdio.h>
#include <unistd.h>

volatile int symtarget_counter;

void *symtarget_leaf(void);
void *symtarget_outer(int x);

/* Global: in .symtab and, exported, in .dynsym. */
__attribute__((noinline)) void *symtarget_leaf(void)
{
	symtarget_counter++;
	return __builtin_return_address(0);
}

/* Static: in .symtab only. */
static __attribute__((noinline)) int symtarget_static(int x)
{
	symtarget_counter += x;
	return symtarget_counter * 3;
}

/* Inlined away: no symbol of its own; its code is part of symtarget_outer. */
static inline void *symtarget_inlined(int x)
{
	symtarget_counter += x;
	enum { INLINED_CALL_LINE = __LINE__ + 1 };
	void *ra = symtarget_leaf();
	printf("inlined_call_line %d\n", INLINED_CALL_LINE);
	return ra;
}

__attribute__((noinline)) void *symtarget_outer(int x)
{
	void *ra = symtarget_inlined(x);
	symtarget_counter++;
	return ra;
}

int main(void)
{
	int (*volatile st)(int) = symtarget_static;
	void *ra = symtarget_outer(st(1));
	printf("symtarget_leaf %p\n", (void *)symtarget_leaf);
	printf("symtarget_static %p\n", (void *)st);
	printf("symtarget_outer %p\n", (void *)symtarget_outer);
	printf("main %p\n", (void *)main);
	printf("return_in_outer %p\n", ra);
	printf("ready\n");
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
