/* runtime/sched/switch_aarch64.S: mctx_swap for AArch64 AAPCS64 (see switch.h).
 *
 * Frame left on a suspended stack, from the saved sp upwards (160 bytes, 16-aligned):
 *   +0 x19 x20, +16 x21 x22, +32 x23 x24, +48 x25 x26, +64 x27 x28, +80 x29 x30,
 *   +96 d8 d9, +112 d10 d11, +128 d12 d13, +144 d14 d15
 * mctx_make (switch.c) builds the same frame for a new fiber with x30 pointing at
 * mctx_entry, x19 = entry function and x20 = its argument.
 */
	.text
	.globl	mctx_swap
	.hidden	mctx_swap
	.type	mctx_swap, %function
	.p2align 4
/* void mctx_swap(mctx *from (x0), mctx *to (x1)) */
mctx_swap:
	.cfi_startproc
	sub	sp, sp, #160
	.cfi_def_cfa_offset 160
	stp	x19, x20, [sp, #0]
	.cfi_offset x19, -160
	.cfi_offset x20, -152
	stp	x21, x22, [sp, #16]
	.cfi_offset x21, -144
	.cfi_offset x22, -136
	stp	x23, x24, [sp, #32]
	.cfi_offset x23, -128
	.cfi_offset x24, -120
	stp	x25, x26, [sp, #48]
	.cfi_offset x25, -112
	.cfi_offset x26, -104
	stp	x27, x28, [sp, #64]
	.cfi_offset x27, -96
	.cfi_offset x28, -88
	stp	x29, x30, [sp, #80]
	.cfi_offset x29, -80
	.cfi_offset x30, -72
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x9, sp
	str	x9, [x0]
	/* Both stacks hold the same frame: the rules above describe the resumed one too. */
	ldr	x9, [x1]
	mov	sp, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	.cfi_def_cfa_offset 0
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	ret
	.cfi_endproc
	.size	mctx_swap, .-mctx_swap

	.globl	mctx_entry
	.hidden	mctx_entry
	.type	mctx_entry, %function
	.p2align 4
/* First code a new fiber runs: entry(arg); entry never returns. */
mctx_entry:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	mctx_entry, .-mctx_entry

	.section .note.GNU-stack,"",%progbits
