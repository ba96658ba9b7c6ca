/* runtime/sched/switch_x86_64.S: mctx_swap for x86-64 System V (see switch.h).
 *
 * Frame left on a suspended stack, from the saved sp upwards:
 *   +0  MXCSR (4 bytes), +4 x87 control word (2 bytes), +6 padding
 *   +8  r15, +16 r14, +24 r13, +32 r12, +40 rbx, +48 rbp, +56 return address
 * mctx_make (switch.c) builds the same frame for a new fiber with the return address
 * pointing at mctx_entry, r12 = entry function and r13 = its argument.
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
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
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
