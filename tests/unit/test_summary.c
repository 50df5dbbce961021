// SPDX-License-Identifier: GPL-2.0
/* Exit details and devices in the summary, the CSV, the JSON and the report's reader. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "collect/procfs.h"
#include "model/names.h"
#include "model/table.h"
#include "offline/csv_read.h"
#include "offline/run_data.h"
#include "present/csv_out.h"

/* The summary, CSV and JSON: details under their reason, device subtotals. */
static void test_detail_reports(void)
{
	const __u32 pid = 0x7ffffff2;
	const __u16 b = 1 << DETAIL_SIZE_SHIFT;
	const __u64 svm_io = (__u64)ISA_SVM << 32 | 0x7b, svm_msr = (__u64)ISA_SVM << 32 | 0x7c;
	struct { __u16 class, flags; __u32 detail; __u64 code, count; } rows[] = {
		{ CLASS_EXIT, DETAIL_IO | DETAIL_WRITE | b, 0x3f8, svm_io, 40 },
		{ CLASS_EXIT, DETAIL_IO | b, 0x3f9, svm_io, 19 },
		{ CLASS_EXIT, DETAIL_IO | DETAIL_WRITE | b, 0xf4, svm_io, 1 },
		{ CLASS_EXIT, DETAIL_MSR, 0x10, svm_msr, 4 },
		{ CLASS_EXIT, DETAIL_MSR | DETAIL_WRITE | DETAIL_UNKNOWN, 0, svm_msr, 2 },
		{ CLASS_EXIT, 0, 0, (__u64)ISA_SVM << 32 | 0x78, 3 },
		{ CLASS_PIO, 0, 0, PIO_WRITE | 0x3f8, 40 },
		{ CLASS_PIO, 0, 0, 0x3f9, 19 },
		{ CLASS_PIO, 0, 0, PIO_WRITE | 0xf4, 1 },
		{ CLASS_MMIO, 0, 0, 0xfee00000 | 2, 5 },
	};
	struct trap_table s;
	char *text;

	CHECK(table_init(&s, &procfs_source) == 0, "table_init");
	table_note_thread(&s, pid, pid + 1, "CPU 0/KVM", &(struct process_seen){ .comm = "vm" });
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct trap_key key = { .tgid = pid, .tid = pid + 1, .class = rows[i].class,
					.detail_flags = rows[i].flags, .detail = rows[i].detail,
					.code = rows[i].code };

		table_row(&s, &key, true)->count = rows[i].count;
	}
	text = capture(summary_of, &s);
	/* the reason's total, then its details by count, then the devices (the name
	 * column is 40 wide with its indent) */
#define LINE(name, n) "\n" name " " n " "
	CHECK(strstr(text, LINE("    SVM io                              ", "          60")) &&
	      strstr(text, LINE("      outb 0x3f8 (serial COM1)          ", "          40")) &&
	      strstr(text, LINE("      inb 0x3f9 (serial COM1)           ", "          19")) &&
	      strstr(text, LINE("      outb 0xf4                         ", "           1")) &&
	      strstr(text, LINE("    SVM msr                             ", "           6")) &&
	      strstr(text, LINE("      rdmsr 0x10                        ", "           4")) &&
	      strstr(text, LINE("      wrmsr (index unknown)             ", "           2")) &&
	      strstr(text, LINE("    SVM hlt                             ", "           3")) &&
	      strstr(text, LINE("    out 0x3f8 (serial COM1)             ", "          40")) &&
	      strstr(text, LINE("    write 0xfee00000 (LAPIC)            ", "           5")),
	      "summary lines: %s", text);
	/* per-device subtotals in the exit and the pio class, after the codes */
	{
		const char *exit_dev = strstr(text, LINE("    device serial COM1                  ", "          59"));
		const char *pio_dev = exit_dev ? strstr(exit_dev + 1, LINE("    device serial COM1                  ", "          59")) : NULL;

		CHECK(exit_dev && pio_dev && exit_dev > strstr(text, "SVM hlt") &&
		      pio_dev > strstr(text, "in 0x3f9 (serial COM1)"), "device subtotals: %s", text);
		CHECK(strstr(text, LINE("    device LAPIC                        ", "           5")), "LAPIC subtotal");
	}
	/* io before msr before hlt: codes by their details' total */
	CHECK(strstr(text, "SVM io") < strstr(text, "SVM msr") && strstr(text, "SVM msr") < strstr(text, "SVM hlt"),
	      "codes sorted by total");
	free(text);

	text = capture(csv_histograms_of, &s);
	CHECK(strstr(text, ",bucket_count,detail,detail_name,device,lat_sq_ns2,lat_p50_ns,lat_p90_ns,"
			  "lat_p99_ns,lat_stddev_ns,wall_ns,kvm_low,kvm_high,verdict\r\n") != NULL, "CSV header");
	CHECK(strstr(text, ",exit,0x20000007b,SVM io,40,0,0,,,,,,0x109000003f8,outb 0x3f8,serial COM1,,,,,,,,,\r\n") &&
	      strstr(text, ",exit,0x20000007c,SVM msr,2,0,0,,,,,,0xe00000000,wrmsr (index unknown),,,,,,,,,,\r\n") &&
	      strstr(text, ",exit,0x200000078,SVM hlt,3,0,0,,,,,,,,,,,,,,,,,\r\n") &&
	      strstr(text, ",pio,0x103f8,out 0x3f8,40,0,0,,,,,,,,serial COM1,,,,,,,,,\r\n"), "CSV rows: %s", text);
	free(text);

	/* kvmprof report reads a key's rows once: an exit's details are keys of their own */
	{
		char path[] = "/tmp/kvmprof-unit-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
		struct run_data d = {};

		CHECK(f != NULL, "temporary CSV");
		if (f) {
			csv_write_histograms(f, &s);
			fclose(f);
			struct csv_file in;

			CHECK(csv_file_load(&in, path) == 0 && run_load_histograms(&d, &in) == 0 &&
			      d.nr_guests == 1, "report reads the CSV");
			csv_file_free(&in);
			if (d.nr_guests == 1) {
				CHECK_U64(d.guests[0].class_total[CLASS_EXIT], 69);
				CHECK_U64(d.guests[0].total, 134);
			}
			run_free(&d);
			unlink(path);
		}
	}

	text = capture(json_of, &s);
	CHECK(strstr(text, "{\"code\":8589934715,\"name\":\"SVM io\",\"count\":60,\"details\":["
			   "{\"detail\":1138166334456,\"name\":\"outb 0x3f8\",\"device\":\"serial COM1\",\"count\":40},") &&
	      strstr(text, "\"devices\":[{\"name\":\"serial COM1\",\"count\":59}]") &&
	      strstr(text, "{\"code\":66552,\"name\":\"out 0x3f8\",\"count\":40,\"device\":\"serial COM1\"}") &&
	      strstr(text, "{\"code\":8589934712,\"name\":\"SVM hlt\",\"count\":3}"), "JSON: %s", text);
	free(text);
	table_free(&s);
}

/* What a user reading the summary of a real guest stumbled on (issue 23):
 * a halt exit's latency is its halted time (said), a long code name is cut
 * to its column ('~', the numbers stay aligned), vCPU threads by number. */
static void test_summary_reading(void)
{
	const __u32 pid = 0x7ffffff0;
	struct trap_table s;
	struct trap_key hlt = { .tgid = pid, .tid = pid + 3, .class = CLASS_EXIT,
				.code = (__u64)ISA_SVM << 32 | 0x78 },
			ecam = { .tgid = pid, .tid = pid + 1, .class = CLASS_MMIO, .code = 0xb0008000 },
			pio = { .tgid = pid, .tid = pid + 2, .class = CLASS_PIO, .code = 0x3f8 };
	struct trap_row *row;
	char *text, *a, *b;

	CHECK(table_init(&s, NULL) == 0, "table_init");
	/* threads met out of order: tid +3 is vcpu1, +1 vcpu2, +2 vcpu0 */
	table_note_thread(&s, pid, pid + 3, "CPU 1/KVM", &(struct process_seen){ .comm = "vm" });
	table_note_thread(&s, pid, pid + 1, "CPU 2/KVM", &(struct process_seen){ .comm = "vm" });
	table_note_thread(&s, pid, pid + 2, "CPU 0/KVM", &(struct process_seen){ .comm = "vm" });
	row = table_row(&s, &hlt, true);
	row->count = 7;
	row->lat = (struct trap_latency){ .count = 7, .sum_ns = 7000000000ULL, .min_ns = 1000,
					  .max_ns = 25950000000ULL, .slots = { [31] = 7 } };
	table_row(&s, &ecam, true)->count = 3;
	table_row(&s, &pio, true)->count = 2;
	for (size_t t = 0; t < s.nr_threads; t++)	/* no /proc source: by name */
		s.threads[t].vcpu = vcpu_from_comm(t == 0 ? "CPU 1/KVM" : t == 1 ? "CPU 2/KVM" : "CPU 0/KVM");
	text = capture(summary_of, &s);
	CHECK(strstr(text, "(a halt's exit -> entry time is the vCPU's halted time"), "halt note: %s", text);
	a = strstr(text, "\n    unsatisfied-read 0xb0008000 (PCIe E~ ");
	CHECK(a && a[1 + 40] == ' ', "a long name cut to its 40 columns with ~: %s", text);
	a = strstr(text, "vcpu0");
	b = strstr(text, "vcpu1");
	CHECK(a && b && a < b && b < strstr(text, "vcpu2"), "vCPU threads by number: %s", text);
	free(text);
	table_free(&s);
}

void unit_summary(void)
{
	test_summary_reading();
	test_detail_reports();
}
