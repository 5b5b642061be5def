from bespoke.report.plots import loss_reduction_plot


def test_the_loss_reduction_plot_draws_a_figure_s_reduction_line_only_when_asked():
    groups = {"seed 0": [(2.0, 0.5), (3.5, 1.5)], "seed 1": [(4.5, -0.3)]}
    plain = loss_reduction_plot(groups, title="t", against="the float model")
    marked = loss_reduction_plot(groups, title="t", against="the float model",
                                 min_reduction=4.0)
    for svg in (plain, marked):
        assert svg.lstrip().startswith(("<?xml", "<svg"))
        assert "1 point" in svg and "seed 1" in svg and "the float model" in svg
    assert "4x" in marked and "4x" not in plain
