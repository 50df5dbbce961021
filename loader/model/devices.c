// SPDX-License-Identifier: GPL-2.0
/* Names of the PC's well-known devices by I/O port and guest-physical
 * address, so a trap breakdown can say "serial COM1" next to 0x3f8.  No
 * library has this table: each entry names where its range is fixed.  The
 * fixed ISA assignments come first; ranges that are firmware or QEMU
 * defaults (not architectural) say so in their name's source. */
#include <stddef.h>
#include "model/devices.h"

struct device_range {
	__u64 lo, hi;		/* inclusive */
	const char *name;
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__x86_64__) || defined(__i386__)
static const struct device_range pio_devices[] = {
	{ 0x0000, 0x001f, "DMA1" },		/* Linux arch/x86/kernel/setup.c standard_io_resources "dma1" */
	{ 0x0020, 0x0021, "PIC master" },	/* Linux asm/i8259.h PIC_MASTER_CMD, PIC_MASTER_IMR */
	{ 0x0040, 0x0043, "PIT" },		/* Linux include/linux/i8253.h PIT_CH0 .. PIT_MODE */
	{ 0x0060, 0x0060, "i8042" },		/* Linux drivers/input/serio/i8042-io.h I8042_DATA_REG */
	{ 0x0061, 0x0061, "port B (speaker, NMI status)" },	/* Linux asm/mach_traps.h NMI_REASON_PORT */
	{ 0x0064, 0x0064, "i8042" },		/* i8042-io.h I8042_STATUS_REG, I8042_COMMAND_REG */
	{ 0x0070, 0x0071, "RTC/CMOS" },		/* Linux asm/mc146818rtc.h RTC_PORT(0), RTC_PORT(1) */
	{ 0x0080, 0x0080, "POST/io delay" },	/* Linux arch/x86/kernel/io_delay.c: outb to 0x80 */
	{ 0x0081, 0x008f, "DMA page registers" },	/* standard_io_resources "dma page reg" */
	{ 0x00a0, 0x00a1, "PIC slave" },	/* Linux asm/i8259.h PIC_SLAVE_CMD, PIC_SLAVE_IMR */
	{ 0x00b2, 0x00b3, "APM/SMI control" },	/* QEMU hw/isa/apm.c APM_CNT_IOPORT, APM_STS_IOPORT */
	{ 0x00c0, 0x00df, "DMA2" },		/* standard_io_resources "dma2" */
	{ 0x00e9, 0x00e9, "debugcon" },		/* QEMU hw/char/debugcon.c default iobase (Bochs port e9) */
	{ 0x0170, 0x0177, "IDE secondary" },	/* QEMU hw/ide/isa.c, piix.c: 0x170/0x376 */
	{ 0x01f0, 0x01f7, "IDE primary" },	/* QEMU hw/ide: 0x1f0/0x3f6 */
	{ 0x02e8, 0x02ef, "serial COM4" },	/* Linux asm/serial.h SERIAL_PORT_DFNS; 8 UART registers */
	{ 0x02f8, 0x02ff, "serial COM2" },
	{ 0x0376, 0x0376, "IDE secondary" },
	{ 0x0378, 0x037f, "parallel LPT1" },	/* QEMU hw/char/parallel-isa.c: 0x378 */
	{ 0x03c0, 0x03df, "VGA" },		/* Linux include/video/vga.h VGA_ATT_W 0x3C0 .. VGA_IS1_RC 0x3DA */
	{ 0x03e8, 0x03ef, "serial COM3" },
	{ 0x03f6, 0x03f6, "IDE primary" },
	{ 0x03f8, 0x03ff, "serial COM1" },
	{ 0x0501, 0x0502, "debug-exit" },	/* QEMU hw/misc/debugexit.c default iobase 0x501, size 2 */
	{ 0x0510, 0x0511, "fw_cfg" },		/* QEMU hw/i386/fw_cfg.h FW_CFG_IO_BASE */
	{ 0x0514, 0x051b, "fw_cfg DMA" },	/* QEMU FW_CFG_DMA_IO_BASE */
	{ 0x0600, 0x067f, "ACPI PM (q35)" },	/* OVMF/SeaBIOS ICH9 PMBASE 0x600, 128 ports (QEMU ICH9_PMIO_SIZE) */
	{ 0x0cf8, 0x0cff, "PCI config" },	/* Linux arch/x86/pci/direct.c: conf1 address 0xCF8, data 0xCFC */
	{ 0xb000, 0xb03f, "ACPI PM (i440fx)" },	/* OVMF/SeaBIOS PIIX4 PMBA 0xB000, 64 ports */
};

/* Pages: kvmprof keeps an MMIO address's 4 KiB page. */
static const struct device_range mmio_devices[] = {
	{ 0x000a0000, 0x000bffff, "VGA window" },	/* Linux include/video/vga.h VGA_FB_PHYS_BASE 0xA0000; text at 0xB8000 */
	{ 0xb0000000, 0xbfffffff, "PCIe ECAM (q35)" },	/* QEMU MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT, 256 MiB */
	{ 0xfec00000, 0xfec00fff, "IOAPIC" },		/* Linux asm/apicdef.h IO_APIC_DEFAULT_PHYS_BASE */
	{ 0xfed00000, 0xfed00fff, "HPET" },		/* QEMU hw/timer/hpet.c HPET_BASE; Linux asm/hpet.h HPET_MMAP_SIZE */
	{ 0xfed40000, 0xfed44fff, "TPM TIS" },		/* Linux drivers/char/tpm/tpm_tis.c TIS_MEM_BASE, 5 localities */
	{ 0xfee00000, 0xfee00fff, "LAPIC" },		/* Linux asm/apicdef.h APIC_DEFAULT_PHYS_BASE */
};
#else
static const struct device_range pio_devices[1];	/* none known: arm64 has no port I/O */
static const struct device_range mmio_devices[1];	/* QEMU virt's map is a board's, not the ISA's */
#endif

static const char *lookup(const struct device_range *t, size_t n, __u64 addr)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].name && addr >= t[i].lo && addr <= t[i].hi)
			return t[i].name;
	return NULL;
}

const char *pio_device(__u16 port)
{
	return lookup(pio_devices, ARRAY_SIZE(pio_devices), port);
}

const char *mmio_device(__u64 gpa)
{
	return lookup(mmio_devices, ARRAY_SIZE(mmio_devices), gpa);
}

const char *trap_device(const struct trap_key *key)
{
	switch (key->class) {
	case CLASS_PIO:
		return pio_device(key->code & 0xffff);
	case CLASS_MMIO:
		return mmio_device(key->code & ~0xfffULL);
	case CLASS_PAGEFAULT:	/* a page fault on a device's page: its MMIO */
		return mmio_device(key->code & PF_PAGE_MASK);
	case CLASS_EXIT:
		if ((key->detail_flags & DETAIL_KIND_MASK) == DETAIL_IO &&
		    !(key->detail_flags & DETAIL_UNKNOWN))
			return pio_device(key->detail & 0xffff);
	}
	return NULL;
}
