// SPDX-License-Identifier: GPL-2.0
/* x86 events beyond traps, chosen with -e: injections (irq), MSIs, IOAPIC
 * and PIC lines (irq), the LAPIC's IPIs and accepted interrupts (ipi),
 * page faults (pagefault), nested guests (nested).  Classic tracepoints,
 * fields by name: the records differ across kernels (core_fixes.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "aggregate.bpf.h"
#include "core_fixes.bpf.h"

SEC("tracepoint/kvm/kvm_inj_virq")
int tp_kvm_inj_virq(struct trace_event_raw_kvm_inj_virq *ctx)
{
	__u64 code = CODE_OF_KIND(IRQ_INJ_VIRQ);

	if (bpf_core_field_exists(ctx->vector))
		code |= ctx->vector | (ctx->soft ? IRQ_SOFT : 0) | (ctx->reinjected ? IRQ_REINJECTED : 0);
	else	/* Linux 5.10: the vector alone, as irq */
		code |= BPF_CORE_READ((struct trace_event_raw_kvm_inj_virq___v510 *)ctx, irq);
	count_trap(CLASS_IRQ, code);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_inj_exception")
int tp_kvm_inj_exception(struct trace_event_raw_kvm_inj_exception *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_INJ_EXCEPTION) | ctx->exception |
			      (ctx->has_error ? IRQ_HAS_ERROR : 0) | (ctx->reinjected ? IRQ_REINJECTED : 0));
	return TP_PASS;
}

/* MSI address bits 12-19: the destination APIC id; data: vector, mode */
SEC("tracepoint/kvm/kvm_msi_set_irq")
int tp_kvm_msi_set_irq(struct trace_event_raw_kvm_msi_set_irq *ctx)
{
	__u64 data = ctx->data, address = ctx->address;

	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_MSI) | (data & 0xff) | (data & 0x700) |
			      ((address >> 12) & 0xff) << 16);
	return TP_PASS;
}

/* the redirection entry e: vector bits 0-7, delivery mode 8-10 */
SEC("tracepoint/kvm/kvm_ioapic_set_irq")
int tp_kvm_ioapic_set_irq(struct trace_event_raw_kvm_ioapic_set_irq *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_IOAPIC) | (ctx->pin & 0xff) | (ctx->e & 0x7ff) << 8 |
			      (ctx->coalesced ? IRQ_COALESCED : 0));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_pic_set_irq")
int tp_kvm_pic_set_irq(struct trace_event_raw_kvm_pic_set_irq *ctx)
{
	count_trap(CLASS_IRQ, CODE_OF_KIND(IRQ_PIC) | (__u64)(ctx->chip & 1) << 8 | (ctx->pin & 7) |
			      (ctx->coalesced ? IRQ_COALESCED : 0));
	return TP_PASS;
}

/* ICR low: vector 0-7, delivery mode 8-10, destination shorthand 18-19 */
SEC("tracepoint/kvm/kvm_apic_ipi")
int tp_kvm_apic_ipi(struct trace_event_raw_kvm_apic_ipi *ctx)
{
	__u32 icr = ctx->icr_low;

	count_trap(CLASS_IPI, CODE_OF_KIND(IPI_SEND) | (icr & 0x7ff) | ((icr >> 18) & 3) << 12 |
			      (__u64)ctx->dest_id << 16);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_apic_accept_irq")
int tp_kvm_apic_accept_irq(struct trace_event_raw_kvm_apic_accept_irq *ctx)
{
	count_trap(CLASS_IPI, CODE_OF_KIND(IPI_ACCEPT) | ctx->vec | (ctx->dm & 7) << 8 |
			      (ctx->tm ? IPI_LEVEL_TRIGGER : 0) | (__u64)ctx->apicid << 16);
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_page_fault")
int tp_kvm_page_fault(struct trace_event_raw_kvm_page_fault *ctx)
{
	count_trap(CLASS_PAGEFAULT, (ctx->fault_address & PF_PAGE_MASK) |
				    (ctx->error_code & (PF_PRESENT | PF_WRITE | PF_USER | PF_RSVD | PF_FETCH)));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_nested_vmexit")
int tp_kvm_nested_vmexit(struct trace_event_raw_kvm_nested_vmexit *ctx)
{
	count_trap(CLASS_NESTED, CODE_OF_KIND(NESTED_L2_EXIT) | (__u64)(ctx->isa & 0xff) << 32 |
				 exit_code_reason(ctx->isa, ctx->exit_reason));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_nested_vmexit_inject")
int tp_kvm_nested_vmexit_inject(struct trace_event_raw_kvm_nested_vmexit_inject *ctx)
{
	count_trap(CLASS_NESTED, CODE_OF_KIND(NESTED_INJECT) | (__u64)(ctx->isa & 0xff) << 32 |
				 exit_code_reason(ctx->isa, ctx->exit_code));
	return TP_PASS;
}

SEC("tracepoint/kvm/kvm_nested_vmenter")
int tp_kvm_nested_vmenter(struct trace_event_raw_kvm_nested_vmenter *ctx)
{
	count_trap(CLASS_NESTED, CODE_OF_KIND(NESTED_ENTER) | (__u64)(ctx->isa & 0xff) << 32);
	return TP_PASS;
}

/* Linux 5.10's entry event, SVM's only (kvm_nested_vmenter from 6.1) */
SEC("tracepoint/kvm/kvm_nested_vmrun")
int tp_kvm_nested_vmrun(void *ctx)
{
	count_trap(CLASS_NESTED, CODE_OF_KIND(NESTED_ENTER) | (__u64)ISA_SVM << 32);
	return TP_PASS;
}
