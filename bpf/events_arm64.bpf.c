// SPDX-License-Identifier: GPL-2.0
/* arm64 events beyond traps, chosen with -e irq: the vgic's pending
 * interrupts, the arch timer's, and KVM_IRQ_LINE.  Classic tracepoints. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"

SEC("tracepoint/kvm/vgic_update_irq_pending")
int tp_vgic_update_irq_pending(struct trace_event_raw_vgic_update_irq_pending *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_VGIC) | ctx->irq | (ctx->level ? IRQ_LEVEL : 0));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_timer_update_irq")
int tp_kvm_timer_update_irq(struct trace_event_raw_kvm_timer_update_irq *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_TIMER) | ctx->irq | (ctx->level ? IRQ_LEVEL : 0));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_irq_line")
int tp_kvm_irq_line(struct trace_event_raw_kvm_irq_line *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_LINE) | (ctx->irq_num & 0xffff) | (__u64)(ctx->type & 0xff) << 16 |
			      (ctx->level ? IRQ_LEVEL : 0));
	return TP_PASS;
}
