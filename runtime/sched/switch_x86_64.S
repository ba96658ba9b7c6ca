/* runtime/sched/switch_x86_64.S: mctx_swap for x86-64 System V (see switch.h).
 *
 * Frame left on a suspended stack, from the saved sp upwards:
 *   +0  MXCSR (4 bytes), +4 x87 control word (2 bytes), +6 padding
 *   +8  r15, +16 r14, +24 r13, +32 r12, +40 rbx, +48 rbp, +56 return address
 * mctx_make (switch.c) builds the same frame for a new fiber with the return address
 * pointing at mctx_entry, r12 = entry function and r13 = its argument.
 * CFI describes every instruction, so perf --call-graph dwarf and gdb unwind through a
 * sample taken mid-switch; mctx_entry marks the outermost frame of a fiber (rip
 * undefined). tools/gdb/ringfold-gdb.py reads the same frame to show parked fibers.
 */
	.text
	.globl	mctx_swap
	.hidden	mctx_swap
	.type	mctx_swap, @function
	.p2align 4
/* void mctx_swap(mctx *from (rdi), mctx *to (rsi)) */
mctx_swap:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	/* Both stacks hold the same frame, so the rules above describe the one we switch
	 * to as well: an unwinder stopped past this point walks the resumed context. */
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size	mctx_swap, .-mctx_swap

	.globl	mctx_entry
	.hidden	mctx_entry
	.type	mctx_entry, @function
	.p2align 4
/* First code a new fiber runs: rsp is 16-byte aligned here, so the call below enters
 * entry(arg) with the alignment the ABI promises. entry never returns. */
mctx_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%r13, %rdi
	callq	*%r12
	ud2
	.cfi_endproc
	.size	mctx_entry, .-mctx_entry

	.section .note.GNU-stack,"",@progbits
