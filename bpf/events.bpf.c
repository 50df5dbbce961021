// SPDX-License-Identifier: GPL-2.0
/* Events beyond traps that every architecture has, chosen with -e:
 * interrupt lines (irq), halt polling (halt).  Classic tracepoints: their
 * fields by name (CO-RE) stay right across the kernels whose records
 * differ.  Linked with kvmprof.bpf.c, which defines the maps. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"

SEC("tracepoint/kvm/kvm_set_irq")
int tp_kvm_set_irq(struct trace_event_raw_kvm_set_irq *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_SET_IRQ) | ctx->gsi | (ctx->level ? IRQ_LEVEL : 0));
	return TP_PASS;
}

/* The time the vCPU waited, polling or blocked, as the code's latency
 * (-e halt), and as halted time in the vCPU time accounting. */
SEC("tracepoint/kvm/kvm_vcpu_wakeup")
int tp_kvm_vcpu_wakeup(struct trace_event_raw_kvm_vcpu_wakeup *ctx)
{
	__u64 outcome = !ctx->valid ? HALT_INVALID : ctx->waited ? HALT_BLOCKED : HALT_POLLED;
	struct trap_key key;

	if (count_halt && current_key(&key, CLASS_HALT, CODE_OF_KIND(HALT_WAKEUP) | outcome) &&
	    count_key(&key))
		record_latency(&key, VCPU_UNKNOWN, ctx->ns);
	on_halt_end(ctx->ns, ctx->waited);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_halt_poll_ns")
int tp_kvm_halt_poll_ns(struct trace_event_raw_kvm_halt_poll_ns *ctx)
{
	count_trap(CLASS_HALT, CODE_OF_KIND(HALT_POLL_NS) | ctx->new | (ctx->grow ? HALT_GROW : 0));
	return TP_PASS;
}
