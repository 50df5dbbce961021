// SPDX-License-Identifier: GPL-2.0
/* Names of the codes of the classes beyond traps (irq, ipi, pagefault,
 * halt, nested): bpf/kvmprof.h's CODE_KIND_SHIFT layouts. */
#include <stdio.h>
#include "kvmprof.h"
#include "model/names.h"

/* x86 exception vectors by their mnemonics (Intel SDM vol. 3A, table 6-1;
 * no uapi header names them) */
static const char *const exceptions[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
	"#GP", "#PF", NULL, "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", [28] = "#HV", [29] = "#VC",
	[30] = "#SX",
};

/* LAPIC delivery modes (ICR, MSI data, IOAPIC entries: bits 8-10) */
static const char *const delivery[8] = { "fixed", "lowest", "SMI", "mode3", "NMI", "INIT",
					 "SIPI", "ExtINT" };

static void irq_name(__u64 code, char *buf, size_t size)
{
	const char *levels = code & IRQ_LEVEL ? " level 1" : " level 0";
	unsigned int low = code & 0xffffffff, vec = code & 0xff;

	switch (CODE_KIND(code)) {
	case IRQ_INJ_VIRQ:
		snprintf(buf, size, "inject vector 0x%x%s%s", low & 0xffff, code & IRQ_SOFT ? " (soft)" : "",
			 code & IRQ_REINJECTED ? " (reinjected)" : "");
		return;
	case IRQ_INJ_EXCEPTION:
		snprintf(buf, size, "inject %s%s%s", vec < 32 && exceptions[vec] ? exceptions[vec] : "exception",
			 code & IRQ_HAS_ERROR ? " with error code" : "", code & IRQ_REINJECTED ? " (reinjected)" : "");
		return;
	case IRQ_SET_IRQ:
		snprintf(buf, size, "gsi %u%s", low, levels);
		return;
	case IRQ_MSI:
		snprintf(buf, size, "MSI vector 0x%x %s to apic %u", vec, delivery[(low >> 8) & 7],
			 (low >> 16) & 0xff);
		return;
	case IRQ_IOAPIC:
		snprintf(buf, size, "IOAPIC pin %u vector 0x%x%s", low & 0xff, (low >> 8) & 0xff,
			 code & IRQ_COALESCED ? " (coalesced)" : "");
		return;
	case IRQ_PIC:
		snprintf(buf, size, "PIC %s pin %u%s", low & 0x100 ? "slave" : "master", low & 7,
			 code & IRQ_COALESCED ? " (coalesced)" : "");
		return;
	case IRQ_VGIC:
	case IRQ_TIMER:
		snprintf(buf, size, "%s irq %u%s", CODE_KIND(code) == IRQ_VGIC ? "vgic" : "timer", low, levels);
		return;
	case IRQ_LINE:
		snprintf(buf, size, "KVM_IRQ_LINE type %u irq %u%s", (low >> 16) & 0xff, low & 0xffff, levels);
		return;
	}
	snprintf(buf, size, "irq 0x%llx", (unsigned long long)code);
}

static void ipi_name(__u64 code, char *buf, size_t size)
{
	static const char *const shorthand[4] = { "", " to self", " to all", " to all but self" };
	unsigned int low = code & 0xffff, dest = (code >> 16) & 0xffffffff;

	if (CODE_KIND(code) == IPI_SEND && (low >> 12) & 3)
		snprintf(buf, size, "IPI vector 0x%x %s%s", low & 0xff, delivery[(low >> 8) & 7],
			 shorthand[(low >> 12) & 3]);
	else if (CODE_KIND(code) == IPI_SEND)
		snprintf(buf, size, "IPI vector 0x%x %s to apic %u", low & 0xff, delivery[(low >> 8) & 7], dest);
	else
		snprintf(buf, size, "accept vector 0x%x %s %s on apic %u", low & 0xff, delivery[(low >> 8) & 7],
			 code & IPI_LEVEL_TRIGGER ? "level" : "edge", dest);
}

static void pagefault_name(__u64 code, char *buf, size_t size)
{
	snprintf(buf, size, "%s 0x%llx%s%s%s", code & PF_FETCH ? "fetch" : code & PF_WRITE ? "write" : "read",
		 (unsigned long long)(code & PF_PAGE_MASK), code & PF_PRESENT ? " present" : "",
		 code & PF_USER ? " user" : "", code & PF_RSVD ? " mmio-spte" : "");
}

static void halt_name(__u64 code, char *buf, size_t size)
{
	static const char *const outcomes[] = { [HALT_POLLED] = "poll succeeded",
						[HALT_BLOCKED] = "blocked", [HALT_INVALID] = "invalid wakeup" };
	__u32 low = code & 0xffffffff;

	if (CODE_KIND(code) == HALT_WAKEUP)
		snprintf(buf, size, "wakeup: %s", low <= HALT_INVALID ? outcomes[low] : "?");
	else
		snprintf(buf, size, "halt_poll_ns %s to %u", code & HALT_GROW ? "grown" : "shrunk", low);
}

static void nested_name(__u64 code, char *buf, size_t size)
{
	static const char *const what[] = { [NESTED_L2_EXIT] = "L2 exit", [NESTED_INJECT] = "to L1",
					    [NESTED_ENTER] = "L2 entry" };
	__u32 kind = CODE_KIND(code), isa = (code >> 32) & 0xff;
	char reason[96];

	if (kind == NESTED_ENTER || kind > NESTED_ENTER) {
		snprintf(buf, size, "%s (%s)", kind == NESTED_ENTER ? what[kind] : "nested?",
			 isa == ISA_VMX ? "VMX" : isa == ISA_SVM ? "SVM" : "?");
		return;
	}
	/* the same names as L1's exits */
	code_name(CLASS_EXIT, (__u64)isa << EXIT_ISA_SHIFT | (__u32)code, reason, sizeof(reason));
	snprintf(buf, size, "%s %s", what[kind], reason);
}

bool event_code_name(unsigned int class, __u64 code, char *buf, size_t size)
{
	switch (class) {
	case CLASS_IRQ: irq_name(code, buf, size); return true;
	case CLASS_IPI: ipi_name(code, buf, size); return true;
	case CLASS_PAGEFAULT: pagefault_name(code, buf, size); return true;
	case CLASS_HALT: halt_name(code, buf, size); return true;
	case CLASS_NESTED: nested_name(code, buf, size); return true;
	}
	return false;
}
