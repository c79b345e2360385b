using Kernel.Proc;
using Kernel.Tests.Framework;
using MemoryManager.Oom;
using MemoryManager.Processes;

namespace Kernel.Tests
{
    /// <summary>
    /// The image's OOM policy (Kernel.Proc.OomPolicy, whatever plug replaced it) against Linux's
    /// oom_badness, one rule per test, on processes made up here (no process is started): lab 4's
    /// autograder (docs/labs/04-oom-policy.md). The OOM killer asks a policy only about killable
    /// processes, so only those are asked here. On the default image the policy is oom_badness and
    /// every test passes; the template policy (resident pages only) fails the rules it leaves out.
    /// </summary>
    public sealed unsafe class OomPolicySuite : TestSuite
    {
        /// <summary>The totalpages most cases use: 156 MiB (RAM plus swap) in pages, about lab 4's machine.</summary>
        private const ulong TotalPages = 39936;

        public OomPolicySuite() : base("oom-policy", AnyMemory, null)
        {
            Add("Resident_anonymous_and_file_pages_count_one_point_each", &Resident_anonymous_and_file_pages_count_one_point_each);
            Add("Swap_entries_count_like_resident_pages", &Swap_entries_count_like_resident_pages);
            Add("Page_table_pages_count_like_resident_pages", &Page_table_pages_count_like_resident_pages);
            Add("A_positive_oom_score_adj_adds_that_many_thousandths_of_totalpages", &A_positive_oom_score_adj_adds_that_many_thousandths_of_totalpages);
            Add("A_negative_oom_score_adj_subtracts_but_a_killable_process_scores_at_least_one", &A_negative_oom_score_adj_subtracts_but_a_killable_process_scores_at_least_one);
            Add("Totalpages_is_divided_by_1000_before_it_scales_the_adj", &Totalpages_is_divided_by_1000_before_it_scales_the_adj);
        }

        /// <summary>Asks the image's policy and oom_badness about one made-up killable process; fails with both answers when they differ.</summary>
        private static void Same(Assert a, ulong rssAnon, ulong rssFile, ulong swap, ulong ptes, int adj, ulong totalpages)
        {
            Process p = default;
            p.Pid = 100;
            p.Comm = "case";
            p.State = ProcessState.Running;
            p.RssAnon = rssAnon;
            p.RssFile = rssFile;
            p.SwapEnts = swap;
            p.NrPtes = ptes;
            p.TotalVm = rssAnon + rssFile + swap;
            p.OomScoreAdj = adj;
            ulong expected = OomKiller.OomBadness(ref p, totalpages);
            ulong policy = OomPolicy.Badness(ref p, totalpages);
            // On a difference: "template: resident pages: Badness(rss_anon 6144, ..., oom_score_adj 800; totalpages 39936) = 6144, oom_badness says 38105".
            a.Equal(expected, policy, string.Concat(new string[] { OomPolicy.Name, ": Badness(rss_anon ", D(rssAnon), ", rss_file ", D(rssFile), ", swap ", D(swap),
                ", ptes ", D(ptes), ", oom_score_adj ", adj.ToString(), "; totalpages ", D(totalpages), ") is oom_badness's" }));
        }

        private static string D(ulong v) => v.ToString();

        private static void Resident_anonymous_and_file_pages_count_one_point_each(Assert a)
        {
            Same(a, 10240, 0, 0, 0, 0, TotalPages);
            Same(a, 0, 1024, 0, 0, 0, TotalPages);
            Same(a, 6144, 1024, 0, 0, 0, TotalPages);
        }

        private static void Swap_entries_count_like_resident_pages(Assert a)
        {
            Same(a, 1024, 0, 4096, 0, 0, TotalPages);
            Same(a, 0, 0, 2048, 0, 0, TotalPages);
        }

        private static void Page_table_pages_count_like_resident_pages(Assert a)
        {
            Same(a, 10240, 0, 0, 21, 0, TotalPages);
            Same(a, 1024, 0, 512, 3, 0, TotalPages);
        }

        private static void A_positive_oom_score_adj_adds_that_many_thousandths_of_totalpages(Assert a)
        {
            Same(a, 6144, 0, 0, 13, 800, TotalPages);
            Same(a, 10240, 0, 0, 21, 1000, TotalPages);
            Same(a, 0, 0, 0, 1, 1, TotalPages);
        }

        private static void A_negative_oom_score_adj_subtracts_but_a_killable_process_scores_at_least_one(Assert a)
        {
            Same(a, 20480, 0, 0, 41, -300, TotalPages);
            Same(a, 1024, 0, 0, 3, -500, TotalPages);
            Same(a, 16, 0, 0, 1, -999, TotalPages);
        }

        private static void Totalpages_is_divided_by_1000_before_it_scales_the_adj(Assert a)
        {
            Same(a, 100, 0, 0, 0, 500, 1999);
            Same(a, 100, 0, 0, 0, 999, 999);
            Same(a, 5000, 0, 0, 9, -7, 65535);
        }
    }
}
