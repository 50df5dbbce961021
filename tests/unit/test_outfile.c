// SPDX-License-Identifier: GPL-2.0
/* Output files: written whole or not at all, and only where they were named. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "unit.h"
#include "util/outfile.h"

static bool file_is(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	bool same = f && fgets(buf, sizeof(buf), f) && !strcmp(buf, want);

	if (f)
		fclose(f);
	return same;
}

static int write_whole(const struct outpath *to, const char *text)
{
	struct outfile o;

	if (outfile_open(&o, to))
		return -1;
	fputs(text, o.f);
	return outfile_commit(&o);
}

/* Files written whole or not at all, and only where they were named. */
static void test_outfile(void)
{
	char dir[] = "/tmp/kvmprof-unit-XXXXXX", path[512], other[512], buf[700], stale[600];
	struct outpath p, q;
	struct outfile o;
	struct stat st;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	CHECK(outpath_init(&p, path, "--csv") == 0 && write_whole(&p, "good\n") == 0, "a new file");
	/* an aborted write leaves the good file and no temporary behind */
	CHECK(outfile_open(&o, &p) == 0, "open");
	fputs("half a fi", o.f);
	outfile_abort(&o);
	CHECK(file_is(path, "good\n"), "good file kept");
	CHECK(write_whole(&p, "new\n") == 0 && file_is(path, "new\n"), "replaced whole");

	/* the folder is the one of the start: swapped for a symlink mid-run,
	 * the file still goes into the folder that was opened */
	snprintf(other, sizeof(other), "%s-other", dir);
	CHECK(mkdir(other, 0700) == 0, "mkdir");
	snprintf(buf, sizeof(buf), "%s-moved", dir);
	CHECK(rename(dir, buf) == 0 && symlink(other, dir) == 0, "folder swapped for a symlink");
	CHECK(write_whole(&p, "after\n") == 0, "written after the swap");
	snprintf(buf, sizeof(buf), "%s-moved/out.csv", dir);
	CHECK(file_is(buf, "after\n"), "into the folder opened at the start");
	snprintf(buf, sizeof(buf), "%s/out.csv", other);
	CHECK(access(buf, F_OK) != 0, "nothing in the symlink's target");
	outpath_free(&p);
	unlink(dir);
	snprintf(buf, sizeof(buf), "%s-moved", dir);
	rename(buf, dir);

	/* a symlink at the name is replaced, its target untouched */
	snprintf(buf, sizeof(buf), "%s/target", other);
	{
		FILE *f = fopen(buf, "w");

		fputs("secret\n", f);
		fclose(f);
	}
	snprintf(other + strlen(other), sizeof(other) - strlen(other), "/link.csv");
	CHECK(symlink(buf, other) == 0, "symlink");
	CHECK(outpath_init(&q, other, "--csv") == 0 && write_whole(&q, "csv\n") == 0, "through a link name");
	CHECK(file_is(buf, "secret\n") && !lstat(other, &st) && S_ISREG(st.st_mode), "link replaced, target kept");
	outpath_free(&q);

	/* the same file named two ways, existing or new */
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	snprintf(buf, sizeof(buf), "%s/./out.csv", dir);
	CHECK(!outpath_init(&p, path, "--csv") && !outpath_init(&q, buf, "--json") && outpath_same(&p, &q),
	      "out.csv and ./out.csv are the same file");
	outpath_free(&q);
	snprintf(buf, sizeof(buf), "%s//new.json", dir);
	snprintf(other, sizeof(other), "%s/new.json", dir);
	CHECK(!outpath_init(&q, buf, "--json") && !outpath_same(&p, &q), "other names differ");
	outpath_free(&p);
	CHECK(!outpath_init(&p, other, "--csv") && outpath_same(&p, &q), "a new file named twice");
	outpath_free(&p);
	outpath_free(&q);

	/* devices and FIFOs are written through, never replaced */
	CHECK(!outpath_init(&p, "/dev/null", "--csv") && write_whole(&p, "x\n") == 0 &&
	      !stat("/dev/null", &st) && S_ISCHR(st.st_mode), "/dev/null stays a device");
	outpath_free(&p);
	dup2(null, 2);
	CHECK(!outpath_init(&p, "/dev/full", "--json") && write_whole(&p, "x\n") == -1, "/dev/full fails");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	CHECK(outpath_init(&p, path, "--csv") == -1, "a FIFO nobody reads is refused");
	outpath_free(&p);
	{
		int rd = open(path, O_RDONLY | O_NONBLOCK);
		char got[8] = "";

		CHECK(!outpath_init(&p, path, "--csv") && write_whole(&p, "fifo\n") == 0 &&
		      read(rd, got, sizeof(got) - 1) == 5 && !strcmp(got, "fifo\n"), "a FIFO written through");
		CHECK(!lstat(path, &st) && S_ISFIFO(st.st_mode), "the FIFO stays");
		outpath_free(&p);
		close(rd);
	}

	/* refused at the start: folders, missing folders, empty and too long
	 * names, folders nothing can be made in */
	CHECK(outpath_init(&p, dir, "--csv") == -1, "a folder is refused");
	outpath_free(&p);
	CHECK(outpath_init(&p, "/nonexistent-dir/x.csv", "--csv") == -1, "missing folder refused");
	outpath_free(&p);
	CHECK(outpath_init(&p, "", "--csv") == -1, "empty name refused");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/%0250d", dir, 0);
	CHECK(outpath_init(&p, path, "--csv") == -1, "a 250-byte name is refused before tracing");
	outpath_free(&p);
	CHECK(outpath_init(&p, "/sys/kernel/kvmprof.csv", "--csv") == -1, "/sys refused at the start");
	outpath_free(&p);
	snprintf(path, sizeof(path), "%s/block", dir);
	CHECK(mknod(path, S_IFBLK | 0600, makedev(7, 0)) == 0 && outpath_init(&p, path, "--csv") == -1,
	      "a block device is refused");
	outpath_free(&p);
	dup2(saved, 2);

	/* a temporary file a killed kvmprof left goes at the next start */
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	snprintf(stale, sizeof(stale), "%s/out.csv.tmp.Ab3dE9", dir);
	close(open(stale, O_CREAT | O_WRONLY, 0600));
	CHECK(!outpath_init(&p, path, "--csv") && access(stale, F_OK) != 0, "stale temporary removed");
	outpath_free(&p);

	snprintf(buf, sizeof(buf), "rm -rf %s %s-other", dir, dir);
	CHECK(system(buf) == 0, "cleanup");
	close(null);
	close(saved);
}

void unit_outfile(void)
{
	test_outfile();
}
