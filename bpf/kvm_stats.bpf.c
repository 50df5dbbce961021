// SPDX-License-Identifier: GPL-2.0
/* KVM's own per-vCPU statistics, read from another process without debugfs
 * or a stats fd: a task_file iterator (Linux 5.8+) that the loader runs
 * once per read, never on any event's path.  For every open file whose
 * name is "kvm-vcpu:N" (the anonymous inode KVM_CREATE_VCPU returns), its
 * private_data is the struct kvm_vcpu; its stat fields are read by CO-RE
 * name, so a field a kernel lacks is reported absent, not guessed.  The
 * iterator holds a reference on each file while the program runs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "kvmprof.h"

/* The stat fields by name, whatever struct kvm_vcpu_stat holds on this
 * kernel and architecture (x86's and arm64's differ). */
struct kvm_vcpu_stat_generic___kp {
	u64 halt_successful_poll, halt_attempted_poll, halt_poll_invalid, halt_wakeup;
	u64 halt_poll_success_ns, halt_poll_fail_ns, halt_wait_ns;
	u64 halt_poll_success_hist[KVM_HIST_BUCKETS], halt_poll_fail_hist[KVM_HIST_BUCKETS];
	u64 halt_wait_hist[KVM_HIST_BUCKETS];
} __attribute__((preserve_access_index));

struct kvm_vcpu_stat___kp {
	/* Linux 5.14 ("KVM: stats: Separate generic stats from architecture
	 * specific ones") moved the halt counters here from the struct */
	struct kvm_vcpu_stat_generic___kp generic;
	u64 halt_successful_poll, halt_attempted_poll, halt_poll_invalid, halt_wakeup;
	u64 exits, io_exits, mmio_exits, halt_exits, irq_exits, signal_exits;
	u64 insn_emulation, insn_emulation_fail, hypercalls, irq_injections, nmi_injections;
	u64 pf_taken, pf_fixed, pf_emulate;
	u64 hvc_exit_stat, wfe_exit_stat, wfi_exit_stat, mmio_exit_user, mmio_exit_kernel;
} __attribute__((preserve_access_index));

struct kvm_vcpu___kp {
	struct kvm *kvm;
	struct pid *pid;
	int vcpu_id;
	struct kvm_vcpu_stat___kp stat;
} __attribute__((preserve_access_index));

/* the record is larger than the BPF stack: built here */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vcpu_stats);
} scratch SEC(".maps");

/* The vCPU's whole struct kvm_vcpu_stat (about 1.2 KB on 6.x), copied in
 * one read: a read per field cost more than the copy (30 helper calls a
 * vCPU, 12% of the loader's time at 2000 vCPUs). */
#define STAT_COPY_BYTES 4096
struct stat_copy {
	__u64 w[STAT_COPY_BYTES / 8];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stat_copy);
} stat_copy SEC(".maps");

/* A field's place in the copy; the verifier sees each as a constant. */
#define STAT_AT(path) bpf_core_field_offset(struct kvm_vcpu_stat___kp, path)
#define STAT_HAS(path, len) \
	(bpf_core_field_exists(struct kvm_vcpu_stat___kp, path) && STAT_AT(path) + (len) <= copied)

#define STAT(id, path)								\
	if (STAT_HAS(path, 8)) {						\
		r->value[id] = *(__u64 *)((char *)c->w + STAT_AT(path));	\
		r->present |= 1ULL << (id);					\
	}

#define HIST(id, field)								\
	if (STAT_HAS(generic.field, sizeof(r->hist[id]))) {			\
		const __u64 *from = (const __u64 *)((char *)c->w + STAT_AT(generic.field)); \
		for (int i = 0; i < KVM_HIST_BUCKETS; i++)			\
			r->hist[id][i] = from[i];				\
		r->hists |= 1U << (id);						\
	}

/* KVM's struct file_operations of vCPU files, learnt from the first file
 * of a run named "kvm-vcpu:N": every other file is then told by one load,
 * its name never read (three helper calls a file, every file of every
 * process).  The loader sets it to 0 before each run: a reloaded KVM
 * module has other fops. */
__u64 vcpu_fops;

static __always_inline bool named_vcpu(struct file *file)
{
	char name[16] = {};

	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	return name[0] == 'k' && name[1] == 'v' && name[2] == 'm' && name[3] == '-' && name[4] == 'v' &&
	       name[5] == 'c' && name[6] == 'p' && name[7] == 'u' && name[8] == ':';
}

SEC("iter/task_file")
int vcpu_stats(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct kvm_vcpu___kp *v;
	struct vcpu_stats *r;
	struct stat_copy *c;
	__u32 zero = 0, copied;
	__u64 fops;

	if (!task || !file)
		return 0;
	fops = (__u64)file->f_op;
	if (vcpu_fops ? fops != vcpu_fops : !named_vcpu(file))
		return 0;
	vcpu_fops = fops;
	r = bpf_map_lookup_elem(&scratch, &zero);
	c = bpf_map_lookup_elem(&stat_copy, &zero);
	if (!r || !c)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	v = BPF_CORE_READ(file, private_data);
	copied = bpf_core_type_size(struct kvm_vcpu_stat___kp);
	if (copied > STAT_COPY_BYTES)
		copied = STAT_COPY_BYTES;	/* fields past the copy read as absent */
	if (bpf_probe_read_kernel(c->w, copied, &v->stat))
		return 0;
	r->tgid = task->tgid;
	r->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	r->tid = BPF_CORE_READ(v, pid, numbers[0].nr);
	r->vcpu_id = BPF_CORE_READ(v, vcpu_id);
	r->vm = (__u64)BPF_CORE_READ(v, kvm);
	STAT(KSTAT_EXITS, exits);
	STAT(KSTAT_IO_EXITS, io_exits);
	STAT(KSTAT_MMIO_EXITS, mmio_exits);
	STAT(KSTAT_HALT_EXITS, halt_exits);
	STAT(KSTAT_IRQ_EXITS, irq_exits);
	STAT(KSTAT_SIGNAL_EXITS, signal_exits);
	STAT(KSTAT_INSN_EMULATION, insn_emulation);
	STAT(KSTAT_INSN_EMULATION_FAIL, insn_emulation_fail);
	STAT(KSTAT_HYPERCALLS, hypercalls);
	STAT(KSTAT_IRQ_INJECTIONS, irq_injections);
	STAT(KSTAT_NMI_INJECTIONS, nmi_injections);
	STAT(KSTAT_PF_TAKEN, pf_taken);
	STAT(KSTAT_PF_FIXED, pf_fixed);
	STAT(KSTAT_PF_EMULATE, pf_emulate);
	STAT(KSTAT_HVC_EXIT, hvc_exit_stat);
	STAT(KSTAT_WFE_EXIT, wfe_exit_stat);
	STAT(KSTAT_WFI_EXIT, wfi_exit_stat);
	STAT(KSTAT_MMIO_EXIT_USER, mmio_exit_user);
	STAT(KSTAT_MMIO_EXIT_KERNEL, mmio_exit_kernel);
	if (bpf_core_field_exists(v->stat.generic)) {
		STAT(KSTAT_HALT_SUCCESSFUL_POLL, generic.halt_successful_poll);
		STAT(KSTAT_HALT_ATTEMPTED_POLL, generic.halt_attempted_poll);
		STAT(KSTAT_HALT_POLL_INVALID, generic.halt_poll_invalid);
		STAT(KSTAT_HALT_WAKEUP, generic.halt_wakeup);
		STAT(KSTAT_HALT_POLL_SUCCESS_NS, generic.halt_poll_success_ns);
		STAT(KSTAT_HALT_POLL_FAIL_NS, generic.halt_poll_fail_ns);
		STAT(KSTAT_HALT_WAIT_NS, generic.halt_wait_ns);
		HIST(KHIST_POLL_SUCCESS, halt_poll_success_hist);
		HIST(KHIST_POLL_FAIL, halt_poll_fail_hist);
		HIST(KHIST_WAIT, halt_wait_hist);
	} else {	/* before 5.14 */
		STAT(KSTAT_HALT_SUCCESSFUL_POLL, halt_successful_poll);
		STAT(KSTAT_HALT_ATTEMPTED_POLL, halt_attempted_poll);
		STAT(KSTAT_HALT_POLL_INVALID, halt_poll_invalid);
		STAT(KSTAT_HALT_WAKEUP, halt_wakeup);
	}
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
