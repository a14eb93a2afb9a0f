"""Agreement statistics against published worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from posebench.analysis import agreement

# Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
# reliability. Psychological Bulletin 86(2), 420-428. Table 2: 6 targets rated by 4 judges;
# Table 4 gives ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71, ICC(1,4) = .44,
# ICC(2,4) = .62, ICC(3,4) = .91.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float
)
SHROUT_FLEISS_ICC = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}

# Bland, J. M. & Altman, D. G. (1986). Statistical methods for assessing agreement between two
# methods of clinical measurement. Lancet i, 307-310. Table 1: peak expiratory flow rate (l/min)
# of 17 subjects, first reading with the Wright and with the mini Wright meter. The paper gives
# mean difference -2.1, SD 38.8 and limits of agreement -79.7 to 75.5 (bias ± 2 SD).
WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI_WRIGHT = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


@pytest.mark.parametrize("form", list(SHROUT_FLEISS_ICC))
def test_icc_matches_shrout_and_fleiss(form):
    value, low, high = agreement.icc_table(SHROUT_FLEISS, form)
    assert round(value, 2) == SHROUT_FLEISS_ICC[form]
    assert low < value < high


def test_the_two_column_icc_is_form_2_1():
    a, b = SHROUT_FLEISS[:, 0], SHROUT_FLEISS[:, 1]
    assert agreement.icc(a, b) == agreement.icc_table(SHROUT_FLEISS[:, :2], "ICC2")
    assert "ICC(2,1)" in agreement.ICC_FORM and "absolute agreement" in agreement.ICC_FORM


def test_limits_of_agreement_match_bland_and_altman():
    result = agreement.agreement(WRIGHT, MINI_WRIGHT, loa_z=2.0)  # the paper used 2 SD
    assert result.n == 17
    assert round(result.bias, 1) == -2.1
    assert round(result.sd, 1) == 38.8
    # the paper computed them from the rounded bias and SD: -2.1 ∓ 2 x 38.8
    assert result.loa_low == pytest.approx(-79.7, abs=0.1)
    assert result.loa_high == pytest.approx(75.5, abs=0.1)
    default = agreement.agreement(WRIGHT, MINI_WRIGHT)
    assert default.loa_high - default.loa_low == pytest.approx(2 * 1.96 * 38.765, abs=0.01)
    # the bias's 95 % CI: mean ± t(0.975, 16) · SD / √17 = -2.1 ± 19.9
    assert default.bias_ci_low == pytest.approx(-2.118 - 2.1199 * 38.765 / 17**0.5, abs=0.01)
    assert default.bias_ci_high == pytest.approx(-2.118 + 2.1199 * 38.765 / 17**0.5, abs=0.01)
    assert default.mae == pytest.approx(np.mean(np.abs(np.subtract(WRIGHT, MINI_WRIGHT))))
    assert default.r == pytest.approx(np.corrcoef(WRIGHT, MINI_WRIGHT)[0, 1])
    assert default.r_ci_low < default.r < default.r_ci_high


def test_missing_pairs_are_left_out_and_too_few_give_nan():
    result = agreement.agreement([1.0, np.nan, 3.0], [1.5, 2.0, np.nan])
    assert result.n == 1 and result.bias == -0.5 and np.isnan(result.sd) and np.isnan(result.icc)
    assert agreement.agreement([], []).n == 0
    assert agreement.calibration_offset(2.4) == -2 and agreement.calibration_offset(np.nan) is None
