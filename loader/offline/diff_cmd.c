// SPDX-License-Identifier: GPL-2.0
/* `kvmprof diff`: two finished runs compared (offline/diff.h), as a text
 * table on stdout and, with -o, an HTML page written whole or not at all,
 * never over an input; --fail-above for CI. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/options.h"
#include "model/classes.h"
#include "offline/diff.h"
#include "offline/report_cmd.h"
#include "offline/runs.h"
#include "util/outfile.h"
#include "util/text.h"

static bool has_guest(const struct run_data *d, const char *name)
{
	for (size_t i = 0; i < d->nr_guests; i++)
		if (!strcmp(d->guests[i].name, name))
			return true;
	return false;
}

/* --map A=B: split where A names a guest of run A and B one of run B (a
 * name may hold '='); EXIT_OK or EXIT_USAGE after one line. */
static int resolve_map(const struct runs *rs, const char *arg, struct guest_map *m)
{
	const char *eq = strchr(arg, '='), *why;
	char shown[1024], *first;
	bool in_a;

	for (const char *p = eq; p; p = strchr(p + 1, '=')) {
		char *a = strndup(arg, p - arg);

		if (a && has_guest(&rs->run[0].d, a) && has_guest(&rs->run[1].d, p + 1)) {
			m->a = a;
			m->b = p + 1;
			return EXIT_OK;
		}
		free(a);
	}
	first = strndup(arg, eq - arg);	/* for the message: the first split */
	in_a = first && has_guest(&rs->run[0].d, first);
	why = in_a ? "run B has no guest named" : "run A has no guest named";
	escape_text(in_a ? eq + 1 : first ? first : arg, shown, sizeof(shown));
	free(first);
	fprintf(stderr, "kvmprof: diff: --map: %s %s (names as the --csv files hold them)\n", why, shown);
	return EXIT_USAGE;
}

/* What the command line asks of these runs: EXIT_OK or EXIT_USAGE. */
static int check_request(const struct diff_options *o, const struct runs *rs, struct guest_map *maps)
{
	for (int i = 0; i < o->nr_maps; i++) {
		if (resolve_map(rs, o->maps[i], &maps[i]) != EXIT_OK)
			return EXIT_USAGE;
		for (int j = 0; j < i; j++)
			if (!strcmp(maps[j].a, maps[i].a) || !strcmp(maps[j].b, maps[i].b)) {
				fprintf(stderr, "kvmprof: diff: --map: a guest mapped twice (%d and %d)\n",
					j + 1, i + 1);
				return EXIT_USAGE;
			}
	}
	if (o->fail_above >= 0 && o->fail_on == FIGURE_RATE &&
	    (run_elapsed(&rs->run[0].d) <= 0 || run_elapsed(&rs->run[1].d) <= 0)) {
		fprintf(stderr, "kvmprof: diff: --fail-on rate needs both runs' --csv-series files "
			"(%s)\n", run_elapsed(&rs->run[0].d) <= 0 ? "A has none" : "B has none");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const char *pct_text(double pct, char *buf, size_t size)
{
	if (isinf(pct))
		snprintf(buf, size, "new");
	else
		snprintf(buf, size, "%+.2f%%%s", pct, pct == -100 ? " (gone)" : "");
	return buf;
}

/* The --fail-above line: on stdout after the table, and on stderr when a
 * figure changed more. */
static void say_verdict(const struct diff *d)
{
	const struct diff_verdict *v = &d->verdict;
	const char *fig = diff_figure_name(d->fail_on);
	char name[1024], guest[1024], pct[64];

	if (!v->above) {
		printf("\nfail-above: no code changed its %s by more than %g%%\n", fig, d->fail_above);
		return;
	}
	escape_text(v->match->name, guest, sizeof(guest));
	escape_text(v->worst.name ? v->worst.name : "", name, sizeof(name));
	pct_text(v->worst_pct, pct, sizeof(pct));
	printf("\nfail-above: %zu code%s changed %s %s by more than %g%% (the most: guest %s, %s %s, "
	       "%s)\n", v->above, v->above == 1 ? "" : "s", v->above == 1 ? "its" : "their", fig,
	       d->fail_above, guest, class_name(v->worst.class), name, pct);
	fflush(stdout);
	fprintf(stderr, "kvmprof: diff: %zu code%s changed %s %s by more than %g%% (the most: guest "
		"%s, %s %s, %s)\n", v->above, v->above == 1 ? "" : "s", v->above == 1 ? "its" : "their",
		fig, d->fail_above, guest, class_name(v->worst.class), name, pct);
}

static int write_page(const struct outpath *to, const struct diff *d)
{
	struct outfile o;

	if (outfile_open(&o, to))
		return -1;
	diff_write_html(o.f, d);
	return outfile_commit(&o);
}

int diff_command(int argc, char **argv)
{
	struct outpath to = { .dirfd = -1, .stream_fd = -1 };
	struct guest_map maps[MAX_DIFF_MAPS] = {};
	struct diff_options opts;
	struct diff d = {};
	struct runs rs;
	int rc;

	run_set_command("diff");
	rc = parse_diff_options(argc, argv, &opts);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = runs_open(&rs, opts.inputs, opts.nr_inputs, 2, 2)) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	if (opts.out_path && (outpath_init(&to, opts.out_path, "diff -o") || runs_output_is_input(&rs, &to)))
		goto out;
	if (runs_read(&rs))
		goto out;
	if ((rc = check_request(&opts, &rs, maps)) != EXIT_OK)
		goto out;
	rc = EXIT_RUNTIME;
	if (diff_build(&d, &rs, maps, opts.nr_maps, opts.top, opts.fail_on, opts.fail_above)) {
		fprintf(stderr, "kvmprof: out of memory\n");
		goto out;
	}
	diff_write_text(stdout, &d);
	if (opts.fail_above >= 0)
		say_verdict(&d);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "kvmprof: diff: cannot write the table to stdout\n");
		goto out;
	}
	if (opts.out_path && write_page(&to, &d))
		goto out;
	rc = d.verdict.above ? EXIT_ABOVE : EXIT_OK;
out:
	diff_free(&d);
	for (int i = 0; i < opts.nr_maps; i++)
		free((char *)maps[i].a);
	runs_free(&rs);
	outpath_free(&to);
	return rc;
}
