/* Tests for sim/trace.c: the node and pod list readers on small CSVs
 * written here, every validation error, --skip-bad-rows, and, when
 * $STOWAGE_TRACES is set, the real openb lists. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "sim/trace.h"

#define NODE_HEADER "sn,cpu_milli,memory_mib,gpu,model\n"
#define POD_HEADER \
	"name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase," \
	"creation_time,deletion_time,scheduled_time\n"

static int parse_nodes(const char *text, sim_trace_nodes *out,
		       score_error *err)
{
	return sim_trace_parse_nodes("nodes.csv", text, strlen(text), NULL, out, err);
}

static int parse_pods(const char *text, sim_trace_pods *out, score_error *err)
{
	return sim_trace_parse_pods("pods.csv", text, strlen(text), NULL, out, err);
}

/* Asserts that parsing `text` fails and the message contains `expected`. */
static void expect_pod_error(const char *text, const char *expected)
{
	sim_trace_pods pods;
	score_error err = {0};
	int ret = parse_pods(text, &pods, &err);

	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for:\n%s\ngot %d", text, ret);
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
	cr_assert_eq(pods.n, 0, "nothing returned on failure");
}

static void expect_node_error(const char *text, const char *expected)
{
	sim_trace_nodes nodes;
	score_error err = {0};
	int ret = parse_nodes(text, &nodes, &err);

	cr_assert_eq(ret, -EINVAL, "expected -EINVAL for:\n%s\ngot %d", text, ret);
	cr_assert(strstr(err.message, expected) != NULL,
		  "expected \"%s\" in the message, got: %s", expected, err.message);
	cr_assert_eq(nodes.n, 0, "nothing returned on failure");
}

/* ---- Nodes --------------------------------------------------------------- */

Test(trace, nodes_parsed)
{
	static const char text[] = NODE_HEADER
		"node-a,64000,262144,2,P100\r\n"
		"node-b,32000,131072,0,\r\n";
	sim_trace_nodes nodes;
	score_error err = {0};

	cr_assert_eq(parse_nodes(text, &nodes, &err), 0, "failed: %s", err.message);
	cr_assert_eq(nodes.n, 2, "got %zu nodes", nodes.n);
	cr_assert_str_eq(nodes.items[0].name, "node-a");
	cr_assert_eq(nodes.items[0].cpu_milli, 64000);
	cr_assert_eq(nodes.items[0].memory_mib, 262144);
	cr_assert_eq(nodes.items[0].gpu, 2);
	cr_assert_str_eq(nodes.items[0].model, "P100");
	cr_assert_eq(nodes.items[0].line, 2, "got line %d", nodes.items[0].line);
	cr_assert_null(nodes.items[1].model, "empty model is NULL");
	sim_trace_nodes_release(&nodes);
}

Test(trace, node_columns_in_any_order)
{
	static const char text[] = "model,gpu,sn,memory_mib,cpu_milli\nT4,4,n1,1024,8000\n";
	sim_trace_nodes nodes;
	score_error err = {0};

	cr_assert_eq(parse_nodes(text, &nodes, &err), 0, "failed: %s", err.message);
	cr_assert_str_eq(nodes.items[0].name, "n1");
	cr_assert_eq(nodes.items[0].gpu, 4);
	cr_assert_eq(nodes.items[0].cpu_milli, 8000);
	sim_trace_nodes_release(&nodes);
}

Test(trace, node_header_errors)
{
	expect_node_error("sn,cpu_milli,memory_mib,gpu,model,zone\nn,1,1,0,,a\n",
			  "nodes.csv:1: unknown column \"zone\"");
	expect_node_error("sn,cpu_milli,memory_mib,gpu\nn,1,1,0\n",
			  "missing column \"model\"");
	expect_node_error("sn,cpu_milli,cpu_milli,memory_mib,gpu,model\nn,1,1,1,0,\n",
			  "column \"cpu_milli\" appears twice");
	expect_node_error("", "empty file");
	expect_node_error(NODE_HEADER, "no data rows");
	expect_node_error(NODE_HEADER "\n\n", "no data rows");
}

Test(trace, node_value_errors)
{
	expect_node_error(NODE_HEADER "n,-5,1024,0,\n",
			  "nodes.csv:2: column cpu_milli: invalid value \"-5\"");
	expect_node_error(NODE_HEADER "n,8000,1024,99,T4\n",
			  "column gpu: invalid value \"99\": expected a whole number of GPUs from 0 to 16");
	expect_node_error(NODE_HEADER "n,1000000000000,1024,0,\n",
			  "column cpu_milli: invalid value \"1000000000000\"");
	expect_node_error(NODE_HEADER "n,8k,1024,0,\n", "invalid value \"8k\"");
	expect_node_error(NODE_HEADER "n,,1024,0,\n", "invalid value \"\"");
	expect_node_error(NODE_HEADER "n,8000,1024,0,T4\n", "a GPU model on a node with 0 GPUs");
	expect_node_error(NODE_HEADER "n,8000,1024,1,T4|P100\n", "without '|'");
	expect_node_error(NODE_HEADER ",8000,1024,0,\n", "column sn");
	expect_node_error(NODE_HEADER "n,8000,1024,0\n",
			  "nodes.csv:2: 4 fields, but the header has 5");
	expect_node_error(NODE_HEADER "a,8000,1024,0,\nb,1,1,0,\na,2,2,0,\n",
			  "nodes.csv:4: duplicate node name \"a\", first on line 2");
}

/* ---- Pods ---------------------------------------------------------------- */

Test(trace, pods_parsed_with_every_column)
{
	static const char text[] = POD_HEADER
		"p1,6000,12288,1,460,,LS,Running,427061,12902960,427061\n"
		"p2,12000,16384,2,1000,T4|P100,BE,Pending,10,20,\n";
	sim_trace_pods pods;
	score_error err = {0};

	cr_assert_eq(parse_pods(text, &pods, &err), 0, "failed: %s", err.message);
	cr_assert_eq(pods.n, 2, "got %zu pods", pods.n);
	cr_assert(pods.has_times, "time columns present");
	cr_assert_eq(pods.items[0].gpu_milli, 460);
	cr_assert_eq(pods.items[0].qos, SIM_QOS_LS);
	cr_assert_eq(pods.items[0].phase, SIM_PHASE_RUNNING);
	cr_assert_eq(pods.items[0].creation_time, 427061);
	cr_assert_eq(pods.items[0].deletion_time, 12902960);
	cr_assert_eq(pods.items[0].scheduled_time, 427061);
	cr_assert_null(pods.items[0].gpu_spec);
	cr_assert_str_eq(pods.items[1].gpu_spec, "T4|P100");
	cr_assert_eq(pods.items[1].num_gpu, 2);
	cr_assert_eq(pods.items[1].qos, SIM_QOS_BE);
	cr_assert_eq(pods.items[1].phase, SIM_PHASE_PENDING);
	cr_assert_eq(pods.items[1].scheduled_time, -1, "empty scheduled_time is -1");
	sim_trace_pods_release(&pods);
}

Test(trace, pods_with_five_columns)
{
	static const char text[] = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\n"
				   "p1,12000,16384,1,1000\n"
				   "p2,6000,0,0,0\n";
	sim_trace_pods pods;
	score_error err = {0};

	cr_assert_eq(parse_pods(text, &pods, &err), 0, "failed: %s", err.message);
	cr_assert_eq(pods.n, 2, "got %zu pods", pods.n);
	cr_assert_not(pods.has_times, "no time columns");
	cr_assert_eq(pods.items[0].creation_time, -1);
	cr_assert_eq(pods.items[0].qos, SIM_QOS_NONE);
	cr_assert_eq(pods.items[0].phase, SIM_PHASE_NONE);
	cr_assert_eq(pods.items[1].memory_mib, 0);
	sim_trace_pods_release(&pods);
}

Test(trace, pod_gpu_errors)
{
	expect_pod_error(POD_HEADER "p,1000,1,0,500,,LS,Running,0,1,\n",
			 "column gpu_milli: invalid value \"500\": a GPU share on a pod with num_gpu 0");
	expect_pod_error(POD_HEADER "p,1000,1,1,0,,LS,Running,0,1,\n",
			 "a pod with GPUs needs gpu_milli from 1 to 1000");
	expect_pod_error(POD_HEADER "p,1000,1,2,500,,LS,Running,0,1,\n",
			 "a pod with several GPUs takes whole GPUs");
	expect_pod_error(POD_HEADER "p,1000,1,1,1500,,LS,Running,0,1,\n",
			 "column gpu_milli: invalid value \"1500\"");
	expect_pod_error(POD_HEADER "p,1000,1,17,1000,,LS,Running,0,1,\n",
			 "column num_gpu: invalid value \"17\"");
}

Test(trace, pod_enum_and_time_errors)
{
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,Gold,Running,0,1,\n",
			 "column qos: invalid value \"Gold\": expected one of LS, BE, Burstable, Guaranteed");
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,LS,running,0,1,\n",
			 "column pod_phase: invalid value \"running\"");
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,LS,Running,10,5,\n",
			 "column deletion_time: invalid value \"5\": deletion before creation_time 10");
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,LS,Running,10,20,30\n",
			 "column scheduled_time: invalid value \"30\"");
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,LS,Running,,20,\n",
			 "column creation_time: invalid value \"\"");
	expect_pod_error(POD_HEADER "p,1000,1,0,0,,LS,Running,1.5,20,\n",
			 "column creation_time: invalid value \"1.5\"");
}

Test(trace, pod_header_errors)
{
	expect_pod_error("name,cpu_milli,memory_mib,num_gpu\np,1,1,0\n",
			 "pods.csv:1: missing column \"gpu_milli\"");
	expect_pod_error("name,cpu_milli,memory_mib,num_gpu,gpu_milli,priority\np,1,1,0,0,5\n",
			 "unknown column \"priority\"");
	expect_pod_error("name,cpu_milli,memory_mib,num_gpu,gpu_milli,creation_time\np,1,1,0,0,5\n",
			 "creation_time and deletion_time come together");
}

Test(trace, pod_row_errors_name_line)
{
	expect_pod_error(POD_HEADER "p1,1000,1,0,0,,LS,Running,0,1,\n"
				    "p2,1000,1,0,0,,LS,Running,0,1\n",
			 "pods.csv:3: 10 fields, but the header has 11");
	expect_pod_error(POD_HEADER "p1,1000,1,0,0,,LS,Running,0,1,\n"
				    "p1,1000,1,0,0,,LS,Running,0,1,\n",
			 "pods.csv:3: duplicate pod name \"p1\", first on line 2");
	expect_pod_error(POD_HEADER "p1,-1,1,0,0,,LS,Running,0,1,\n",
			 "pods.csv:2: column cpu_milli: invalid value \"-1\"");
}

Test(trace, skip_bad_rows_counts_and_keeps_good)
{
	static const char text[] = POD_HEADER
		"p1,1000,1,0,0,,LS,Running,0,1,\n"
		"p2,abc,1,0,0,,LS,Running,0,1,\n"
		"p3,1000,1,1,500,,LS,Running,0,1,\n"
		"p4,1000,1\n"
		"p1,1000,1,0,0,,LS,Running,0,1,\n";
	sim_read_options options = {.skip_bad_rows = true};
	sim_trace_pods pods;
	score_error err = {0};
	int ret;

	ret = sim_trace_parse_pods("pods.csv", text, strlen(text), &options, &pods, &err);
	cr_assert_eq(ret, 0, "failed: %s", err.message);
	cr_assert_eq(pods.n, 2, "p1 and p3 kept, got %zu", pods.n);
	cr_assert_eq(pods.skipped, 3, "p2, p4 and the second p1 skipped, got %zu",
		     pods.skipped);
	cr_assert(strstr(pods.first_skipped, "pods.csv:3: column cpu_milli") != NULL,
		  "first skipped: %s", pods.first_skipped);
	cr_assert_str_eq(pods.items[1].name, "p3");
	sim_trace_pods_release(&pods);
}

Test(trace, skip_bad_rows_all_bad_fails)
{
	static const char text[] = NODE_HEADER "n,x,1,0,\n";
	sim_read_options options = {.skip_bad_rows = true};
	sim_trace_nodes nodes;
	score_error err = {0};
	int ret;

	ret = sim_trace_parse_nodes("nodes.csv", text, strlen(text), &options, &nodes, &err);
	cr_assert_eq(ret, -EINVAL, "got %d", ret);
	cr_assert(strstr(err.message, "no valid data rows: the only one was skipped: ") != NULL,
		  "message: %s", err.message);
}

Test(trace, skip_bad_rows_all_of_several_fail)
{
	static const char text[] = NODE_HEADER "n,x,1,0,\nm,y,1,0,\n";
	sim_read_options options = {.skip_bad_rows = true};
	sim_trace_nodes nodes;
	score_error err = {0};

	cr_assert_eq(sim_trace_parse_nodes("nodes.csv", text, strlen(text), &options, &nodes, &err),
		     -EINVAL);
	cr_assert(strstr(err.message, "no valid data rows: all 2 were skipped; the first: ") != NULL,
		  "message: %s", err.message);
}

Test(trace, skip_bad_rows_keeps_header_errors)
{
	static const char text[] = "sn,cpu\nn,1\n";
	sim_read_options options = {.skip_bad_rows = true};
	sim_trace_nodes nodes;
	score_error err = {0};

	cr_assert_eq(sim_trace_parse_nodes("nodes.csv", text, strlen(text), &options,
					   &nodes, &err), -EINVAL);
	cr_assert(strstr(err.message, "unknown column \"cpu\"") != NULL, "message: %s",
		  err.message);
}

/* ---- Files --------------------------------------------------------------- */

Test(trace, read_from_file)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("stowage-trace-XXXXXX", &error);
	char *path;
	sim_trace_nodes nodes;
	score_error err = {0};

	cr_assert_not_null(dir, "temporary directory: %s", error ? error->message : "");
	path = g_build_filename(dir, "nodes.csv", NULL);
	cr_assert(g_file_set_contents(path, NODE_HEADER "n1,8000,1024,1,T4\n", -1, NULL));
	cr_assert_eq(sim_trace_read_nodes(path, NULL, &nodes, &err), 0, "failed: %s",
		     err.message);
	cr_assert_eq(nodes.n, 1, "got %zu", nodes.n);
	sim_trace_nodes_release(&nodes);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* A list saved by a spreadsheet program starts with a UTF-8 byte-order
 * mark, which must not become part of the first column's name. */
Test(trace, byte_order_mark_before_header)
{
	GError *error = NULL;
	char *dir = g_dir_make_tmp("stowage-trace-XXXXXX", &error);
	char *path;
	sim_trace_pod_reader *reader = NULL;
	sim_trace_pod pod;
	sim_trace_nodes nodes;
	score_error err = {0};
	int ret;

	ret = parse_nodes("\xEF\xBB\xBF" NODE_HEADER "n1,8000,1024,0,\n", &nodes, &err);
	cr_assert_eq(ret, 0, "node list with the mark: %s", err.message);
	cr_assert_eq(nodes.n, 1, "got %zu nodes", nodes.n);
	sim_trace_nodes_release(&nodes);

	cr_assert_not_null(dir, "temporary directory: %s", error ? error->message : "");
	path = g_build_filename(dir, "pods.csv", NULL);
	cr_assert(g_file_set_contents(path, "\xEF\xBB\xBF" POD_HEADER
				      "p1,1000,1024,0,0,,LS,Running,0,10,0\n", -1, NULL));
	ret = sim_trace_pod_reader_open(path, NULL, true, &reader, &err);
	cr_assert_eq(ret, 0, "pod list read as a stream: %s", err.message);
	cr_assert_eq(sim_trace_pod_reader_next(reader, &pod, &err), 1, "%s", err.message);
	cr_assert_str_eq(pod.name, "p1");
	sim_trace_pod_clear(&pod);
	sim_trace_pod_reader_free(reader);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

Test(trace, missing_file_names_path)
{
	sim_trace_pods pods;
	score_error err = {0};
	int ret = sim_trace_read_pods("/nonexistent/stowage/pods.csv", NULL, &pods, &err);

	cr_assert_eq(ret, -EIO, "got %d", ret);
	cr_assert(strstr(err.message, "/nonexistent/stowage/pods.csv") != NULL,
		  "message: %s", err.message);
}

/* ---- Real traces --------------------------------------------------------- */

/* Returns the openb folder under $STOWAGE_TRACES (the shared traces
 * root), or skips the test with one line on stderr. The caller frees the
 * path with g_free(). */
static char *traces_or_skip(const char *test)
{
	const char *dir = getenv("STOWAGE_TRACES");

	if (dir == NULL || dir[0] == '\0') {
		fprintf(stderr, "%s: skipped: STOWAGE_TRACES is not set\n", test);
		cr_skip_test("STOWAGE_TRACES is not set");
	}
	return g_build_filename(dir, "openb", NULL);
}

Test(trace, openb_lists_read_cleanly)
{
	char *dir = traces_or_skip("trace::openb_lists_read_cleanly");
	struct {
		const char *file;
		size_t rows;
		bool nodes;
	} lists[] = {
		{"openb_node_list_all_node.csv", 1523, true},
		{"openb_node_list_gpu_node.csv", 1213, true},
		{"openb_pod_list_default.csv", 8152, false},
		{"openb_pod_list_cpu100.csv", 7853, false},
		{"openb_pod_list_gpushare40.csv", 8152, false},
		{"openb_pod_list_multigpu20.csv", 8324, false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
		char *path = g_build_filename(dir, lists[i].file, NULL);
		score_error err = {0};
		size_t n = 0;
		int ret;

		if (lists[i].nodes) {
			sim_trace_nodes nodes;

			ret = sim_trace_read_nodes(path, NULL, &nodes, &err);
			n = nodes.n;
			if (ret == 0)
				sim_trace_nodes_release(&nodes);
		} else {
			sim_trace_pods pods;

			ret = sim_trace_read_pods(path, NULL, &pods, &err);
			n = pods.n;
			if (ret == 0)
				sim_trace_pods_release(&pods);
		}
		cr_assert_eq(ret, 0, "%s: %s", lists[i].file, err.message);
		cr_assert_eq(n, lists[i].rows, "%s: expected %zu rows, got %zu",
			     lists[i].file, lists[i].rows, n);
		g_free(path);
	}
	g_free(dir);
}
