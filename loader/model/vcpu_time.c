// SPDX-License-Identifier: GPL-2.0
/* vCPU time accounting: the states' nanoseconds from each thread's record,
 * and the outside time that fills its wall time. */
#include <string.h>
#include "model/vcpu_time.h"

static __u64 max_u64(__u64 a, __u64 b)
{
	return a > b ? a : b;
}

bool time_record_whole(const struct vcpu_thread *rec, __u64 now, __u64 sum)
{
	__u64 end = rec->end_ns ? rec->end_ns : max_u64(now, rec->since_ns);
	__u64 life = end > rec->first_ns ? end - rec->first_ns : 0;

	return sum <= life + TIME_RECORD_SLACK_NS && sum + TIME_RECORD_SLACK_NS >= life;
}

/* Grows the shown states v by budget (the wall added since they were
 * shown) toward the measured m, each by what it lacks of m; where those sum
 * past the budget (a state of m went back), each by its share.  So shown
 * states never go back and sum to the shown wall, and a run's intervals
 * add up to its totals exactly.  What each got is in added. */
static void grow_toward(__u64 v[NR_TIME_STATES], const __u64 m[NR_TIME_STATES], __u64 budget,
			__u64 added[NR_TIME_STATES])
{
	__u64 need[NR_TIME_STATES], total = 0, given = 0;
	int most = TIME_OUTSIDE;

	for (int s = 0; s < NR_TIME_STATES; s++) {
		need[s] = m[s] > v[s] ? m[s] - v[s] : 0;
		total += need[s];
		if (need[s] > need[most])
			most = s;
	}
	for (int s = 0; s < NR_TIME_STATES; s++) {
		added[s] = total > budget ? (__u64)((unsigned __int128)need[s] * budget / total) : need[s];
		given += added[s];
	}
	/* the shares' rounding; or m short of the wall by the record's rounding */
	added[total > budget ? most : TIME_OUTSIDE] += budget - given;
	for (int s = 0; s < NR_TIME_STATES; s++)
		v[s] += added[s];
}

void thread_time_update(struct thread_time *t, const struct vcpu_thread *rec, __u64 run_start,
			__u64 now)
{
	__u64 measured[NR_TIME_STATES], wall_start, wall_end, wall, read = now, measured_sum = 0;

	/* changed after the clock was read (the clock comes first): the copy
	 * is as of its change */
	if (!rec->end_ns && rec->since_ns > now)
		now = rec->since_ns;
	for (int s = 0; s < NR_TIME_STATES; s++)
		measured[s] = rec->time_ns[s];
	/* the open segment, up to this read */
	if (!rec->end_ns && rec->state < NR_TIME_STATES && now > rec->since_ns)
		measured[rec->state] += now - rec->since_ns;
	/* A record copied while its program changed it (another CPU) can hold
	 * a closed segment and the open one it came from: its states then sum
	 * past its life, which an untorn one never does.  Such a read is left
	 * out; the next one has it all. */
	for (int s = 0; s < NR_TIME_STATES; s++)
		measured_sum += measured[s];
	if (!time_record_whole(rec, now, measured_sum)) {
		memset(t->interval, 0, sizeof(t->interval));	/* the next interval has it */
		t->interval_wall = 0;
		return;
	}
	t->seen = true;
	t->read_at = read;
	t->entered |= rec->entries > 0;
	t->first_ns = rec->first_ns;
	t->end_ns = rec->end_ns;
	wall_start = max_u64(run_start, t->start_ns);
	if (wall_start > rec->first_ns)	/* the start from /proc is in clock ticks */
		wall_start = rec->first_ns;
	wall_end = rec->end_ns ? rec->end_ns : now;
	measured[TIME_OUTSIDE] += rec->first_ns - wall_start;	/* before its first event */
	wall = wall_end > wall_start ? wall_end - wall_start : 0;
	/* A state can go back: a read's estimate of the open segment is undone
	 * by what BPF learns after it (an unseen switch in gives the time to
	 * the state resumed; a thread's end makes its last VMM trip outside).
	 * The shown states keep what was shown, and what the others lack of
	 * the measure is made up as the wall grows. */
	wall = max_u64(wall, t->wall);
	t->interval_wall = wall - t->wall;
	t->wall = wall;
	grow_toward(t->ns, measured, t->interval_wall, t->interval);
}

void time_sum_add(struct time_sum *sum, const struct thread_time *t)
{
	if (!t->seen)
		return;
	for (int s = 0; s < NR_TIME_STATES; s++) {
		sum->ns[s] += t->ns[s];
		sum->interval[s] += t->interval[s];
	}
	sum->wall += t->wall;
	sum->interval_wall += t->interval_wall;
	sum->threads++;
}

int time_columns(unsigned int flags, enum time_column cols[NR_TIME_COLUMNS])
{
	int n = 0;

	if (flags & TIME_SPLIT_GUEST) {
		cols[n++] = TCOL_GUEST;
		cols[n++] = TCOL_EXIT;
	} else {
		cols[n++] = TCOL_KVM_RUN;
	}
	cols[n++] = TCOL_VMM;
	cols[n++] = TCOL_HALTED;
	cols[n++] = TCOL_PREEMPTED;
	cols[n++] = TCOL_OUTSIDE;
	return n;
}

__u64 time_column_ns(enum time_column c, const __u64 ns[NR_TIME_STATES])
{
	switch (c) {
	case TCOL_GUEST: return ns[TIME_GUEST];
	case TCOL_EXIT: return ns[TIME_EXIT];
	case TCOL_KVM_RUN: return ns[TIME_GUEST] + ns[TIME_EXIT];
	case TCOL_VMM: return ns[TIME_VMM];
	case TCOL_HALTED: return ns[TIME_HALTED];
	case TCOL_PREEMPTED: return ns[TIME_PREEMPTED];
	case TCOL_OUTSIDE: return ns[TIME_OUTSIDE];
	case NR_TIME_COLUMNS: break;
	}
	return 0;
}

static const char *const column_names[NR_TIME_COLUMNS] = {
	[TCOL_GUEST] = "guest", [TCOL_EXIT] = "exit", [TCOL_KVM_RUN] = "kvm_run", [TCOL_VMM] = "vmm",
	[TCOL_HALTED] = "halted", [TCOL_PREEMPTED] = "preempted", [TCOL_OUTSIDE] = "outside",
};

const char *time_column_name(enum time_column c)
{
	return column_names[c];
}

const char *time_column_heading(enum time_column c)
{
	return c == TCOL_KVM_RUN ? "in KVM_RUN" : column_names[c];
}

const char *time_state_name(unsigned int state)
{
	static const char *const names[NR_TIME_STATES] = {
		[TIME_OUTSIDE] = "outside", [TIME_GUEST] = "guest", [TIME_EXIT] = "exit",
		[TIME_VMM] = "vmm", [TIME_HALTED] = "halted", [TIME_PREEMPTED] = "preempted",
	};

	return state < NR_TIME_STATES ? names[state] : "?";
}
