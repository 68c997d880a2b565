/* unwtarget.c - a program spinning in a known call chain main -> unw_a ->
 * unw_b -> unw_c, for test_unwind to stop with ptrace and unwind. Built -O2
 * without frame pointers (unwound by .eh_frame) and, as unwtarget-fp, with
 * frame pointers and no unwind tables (unwound by the rbp chain). Prints
 * "ready" once inside unw_c. */
#include <stdio.h>

volatile unsigned long unw_counter;
volatile int unw_stop;

void unw_a(void);
void unw_b(void);
void unw_c(void);

/* A loop on a volatile flag: not "noreturn", so each call is a real call
 * followed by code (no tail calls, no return address past the end). */
__attribute__((noinline)) void unw_c(void)
{
	printf("ready\n");
	fflush(stdout);
	while (!unw_stop)
		unw_counter++;
}

__attribute__((noinline)) void unw_b(void)
{
	unw_c();
	unw_counter += 2;
}

__attribute__((noinline)) void unw_a(void)
{
	unw_b();
	unw_counter += 3;
}

int main(void)
{
	unw_a();
	return (int)(unw_counter & 1);
}
