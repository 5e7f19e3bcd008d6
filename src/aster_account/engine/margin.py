"""Margin math as small pure functions over ``Decimal``; each docstring states its formula.

Sources: FACTS.md "Account math" (which follows the Binance futures FAQ that Aster's engine
mirrors) and the worked examples in ``shared/vectors/margin.json``.

Conventions:

* ``position_amt`` is signed: long > 0, short < 0. ``direction`` / ``side`` is +1 (long, BUY)
  or −1 (short, SELL). Notionals are never negative.
* Results are not rounded. Sums and products of Decimals are exact within the context
  precision (28 significant digits by default); divisions (``initial_margin``, the liquidation
  price, the ADL ratios) are exact when the quotient terminates within that precision and
  correctly rounded to it otherwise. Rounding for display belongs to the wire layer.
* A computed zero is always ``Decimal("0")``, never ``-0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from aster_account.engine.market import Bracket, LeverageBrackets

__all__ = [
    "Leg",
    "adl_margin_ratio",
    "adl_pnl_ratio",
    "adl_quantiles",
    "adl_score",
    "available_balance",
    "funding_payment",
    "initial_margin",
    "isolated_reducible",
    "liquidation_price",
    "liquidation_price_single",
    "max_withdraw_amount",
    "notional",
    "open_loss",
    "order_margin",
    "remaining_openable_notional",
    "unrealized_pnl",
]

ZERO = Decimal(0)
ONE = Decimal(1)


def _clean(value: Decimal) -> Decimal:
    """``value`` with a negative zero turned into ``0`` (so the wire never shows ``-0``)."""
    return value if value else ZERO


def _check_direction(direction: int) -> None:
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 (long) or -1 (short), got {direction}")


def _check_leverage(leverage: int) -> None:
    if leverage < 1:
        raise ValueError(f"leverage must be at least 1, got {leverage}")


# --- position values --------------------------------------------------------------------------


def notional(position_amt: Decimal, mark: Decimal) -> Decimal:
    """``notional = |positionAmt| × mark`` (FACTS.md "Account math")."""
    return abs(position_amt) * mark


def unrealized_pnl(position_amt: Decimal, entry: Decimal, mark: Decimal) -> Decimal:
    """``uPnL = positionAmt × (mark − entry)``; signed, so a short gains when mark falls."""
    return _clean(position_amt * (mark - entry))


def initial_margin(notional: Decimal, leverage: int) -> Decimal:
    """``IM = notional / leverage`` (FACTS.md ``positionInitialMargin``).

    Decimal division in the current context: exact whenever the quotient has at most 28
    significant digits (always for leverages made of 2s and 5s: 1, 2, 4, 5, 8, 10, 20, 25, ...),
    otherwise correctly rounded to 28 digits — far below any amount the wire shows.
    """
    _check_leverage(leverage)
    return notional / leverage


def open_loss(qty: Decimal, direction: int, mark: Decimal, order_price: Decimal) -> Decimal:
    """``openLoss = qty × |min(0, direction × (mark − orderPrice))|`` (Binance FAQ "order cost").

    The loss an order would book at once if filled at ``order_price`` and marked at ``mark``:
    a buy above mark or a sell below mark. ``qty`` ≥ 0, ``direction`` +1 buy / −1 sell.
    """
    _check_direction(direction)
    return _clean(qty * abs(min(ZERO, direction * (mark - order_price))))


def order_margin(
    qty: Decimal, direction: int, mark: Decimal, order_price: Decimal, leverage: int
) -> Decimal:
    """Margin an order reserves: ``qty × orderPrice / leverage + openLoss`` (FACTS.md "Order cost").

    Initial margin is taken at the order price (Binance FAQ worked example: 1 BTC at 9253.3,
    20x -> 462.665), plus ``open_loss`` against the mark.
    """
    return initial_margin(qty * order_price, leverage) + open_loss(
        qty, direction, mark, order_price
    )


# --- liquidation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a symbol's position, as the liquidation formula sees it.

    ``amount`` is the signed position amount (LONG legs ≥ 0, SHORT legs ≤ 0, BOTH either);
    ``entry`` its average entry price.
    """

    amount: Decimal
    entry: Decimal


def liquidation_price_single(
    *,
    wallet_balance: Decimal,
    maint_amount_cum: Decimal,
    side: int,
    position: Decimal,
    entry: Decimal,
    mmr: Decimal,
    tmm: Decimal = ZERO,
    upnl: Decimal = ZERO,
) -> Decimal:
    """Liquidation price of one one-way position with a fixed bracket (FACTS.md, Binance FAQ):

    ``LP = (WB − TMM + UPNL + cum − side × position × entry) / (position × mmr − side × position)``

    ``position`` is the size (≥ 0), ``side`` +1 long / −1 short; ``tmm`` / ``upnl`` are the
    maintenance margin and unrealized PnL of the account's *other* cross positions (0 for
    isolated). This is the shape of the published worked examples; ``liquidation_price`` also
    picks the bracket. Returns 0 when the result is ≤ 0 or the denominator is 0 (the position
    cannot be liquidated).
    """
    _check_direction(side)
    if position < ZERO:
        raise ValueError(f"position is a size and must be >= 0, got {position}")
    denominator = position * mmr - side * position
    if not denominator:
        return ZERO
    price = (wallet_balance - tmm + upnl + maint_amount_cum - side * position * entry) / denominator
    return price if price > ZERO else ZERO


def _solve(base: Decimal, legs: Sequence[Leg], chosen: Sequence[Bracket]) -> Decimal | None:
    """The price solving ``base + Σ amt·(P − entry) = Σ (|amt|·P·mmr − cum)`` for fixed brackets."""
    numerator = base
    denominator = ZERO
    for leg, bracket in zip(legs, chosen, strict=True):
        numerator += bracket.cum - leg.amount * leg.entry
        denominator += abs(leg.amount) * bracket.maint_margin_ratio - leg.amount
    if not denominator:
        return None
    return numerator / denominator


def _brackets_at(
    legs: Sequence[Leg], price: Decimal, brackets: LeverageBrackets
) -> tuple[Bracket, ...]:
    return tuple(brackets.for_notional(abs(leg.amount) * max(price, ZERO)) for leg in legs)


_ROOT_TOLERANCE = Decimal("1E-20")


def _all_roots(base: Decimal, legs: Sequence[Leg], brackets: LeverageBrackets) -> list[Decimal]:
    """Every price > 0 where margin balance equals maintenance margin, by exhaustive search.

    Between two consecutive bracket floors (``floor / |amt|`` for each leg) every leg stays in
    one bracket and the balance is linear in the price, so each such segment has at most one
    root, found with ``_solve`` and kept if it lies in the segment.
    """
    edges = sorted(
        {ZERO} | {b.notional_floor / abs(leg.amount) for leg in legs for b in brackets.brackets[1:]}
    )
    roots: list[Decimal] = []
    for index, low in enumerate(edges):
        high = edges[index + 1] if index + 1 < len(edges) else None
        inside = (low + high) / 2 if high is not None else low * 2 + 1
        price = _solve(base, legs, _brackets_at(legs, inside, brackets))
        if price is None or price <= ZERO:
            continue
        slack = _ROOT_TOLERANCE * max(ONE, abs(price))
        if price < low - slack or (high is not None and price > high + slack):
            continue
        if not any(abs(price - seen) <= slack for seen in roots):
            roots.append(price)
    return roots


def liquidation_price(
    *,
    wallet_balance: Decimal,
    other_maint_margin: Decimal,
    other_unrealized_pnl: Decimal,
    both: Leg | None,
    long: Leg | None,
    short: Leg | None,
    brackets: LeverageBrackets,
) -> Decimal:
    """Liquidation price of one symbol's position, picking brackets (FACTS.md, Binance FAQ).

    ``LP = (WB − TMM₁ + UPNL₁ + cumB + cumL + cumS − sideB·posB·epB − posL·epL + posS·epS)
    / (posB·mmrB + posL·mmrL + posS·mmrS − sideB·posB − posL + posS)``

    with ``pos`` sizes and ``side`` signs; in signed amounts this is the price ``P`` where the
    margin balance ``WB − TMM₁ + UPNL₁ + Σ amt·(P − entry)`` equals ``Σ (|amt|·P·mmr − cum)``.

    * Cross: ``wallet_balance`` is the cross wallet balance, ``other_*`` the maintenance margin
      and unrealized PnL of the account's other cross positions; in hedge mode pass both legs,
      they share one price. Isolated: the isolated wallet, ``other_* = 0``, one leg per call.
    * Brackets: each leg starts in the bracket of its notional at entry (``|amt| × entry``) —
      the only price the position itself carries, so the answer depends on state alone, not on
      the mark. Each leg then moves to the bracket of ``|amt| × LP`` (of 0 if LP ≤ 0) and LP is
      recomputed until no leg moves, which makes LP a root of the equation above (to the
      28-digit precision of the division). No bracket combination is tried twice, so the
      rounds are bounded. Maintenance margin is convex in notional (``cum`` makes it continuous
      and ratios rise), so for one leg each round moves LP monotonically towards the single
      root: at most ``len(brackets)`` rounds.
    * Two hedge legs: the balance is then concave in price and may have two roots (a tightly
      hedged position is liquidated if the price moves far enough either way), and the rounds
      can cycle between bracket pairs. When they cycle, hit a zero denominator or settle on a
      price ≤ 0 (the balance may still fall to the maintenance margin at a high price), every
      root is found by an exhaustive segment search and the one nearest the legs' size-weighted
      entry price is returned.
    * Returns 0 when there is no position, when the price is ≤ 0 (the margin covers the
      position even at a price of 0), or when no price liquidates it.
    """
    if long is not None and long.amount < ZERO:
        raise ValueError(f"a LONG leg has amount >= 0, got {long.amount}")
    if short is not None and short.amount > ZERO:
        raise ValueError(f"a SHORT leg has amount <= 0, got {short.amount}")
    legs = [leg for leg in (both, long, short) if leg is not None and leg.amount]
    if not legs:
        return ZERO
    base = wallet_balance - other_maint_margin + other_unrealized_pnl
    chosen = tuple(brackets.for_notional(abs(leg.amount) * leg.entry) for leg in legs)
    tried = {chosen}
    while True:
        price = _solve(base, legs, chosen)
        if price is None:
            break
        moved = _brackets_at(legs, price, brackets)
        if moved == chosen:
            if price > ZERO:
                return price
            if len(legs) == 1:
                return ZERO
            break
        if moved in tried:
            break
        tried.add(moved)
        chosen = moved
    roots = _all_roots(base, legs, brackets)
    if not roots:
        return ZERO
    size = sum((abs(leg.amount) for leg in legs), ZERO)
    reference = sum((abs(leg.amount) * leg.entry for leg in legs), ZERO) / size
    return min(roots, key=lambda root: (abs(root - reference), root))


# --- funding and ADL --------------------------------------------------------------------------


def funding_payment(position_amt: Decimal, mark: Decimal, rate: Decimal) -> Decimal:
    """Funding income booked to the account: ``−(positionAmt × mark × rate)``.

    FACTS.md: ``fee = |positionAmt| × mark × rate``; with a positive rate longs pay and shorts
    receive (income type ``FUNDING_FEE``). Negative result = paid.
    """
    return _clean(-(position_amt * mark * rate))


def adl_pnl_ratio(wallet_balance: Decimal, unrealized_pnl: Decimal) -> Decimal:
    """ADL ``pnlPct = max(0, uPnL) / max(1, WB)`` (FACTS.md "ADL", Binance FAQ)."""
    return max(ZERO, unrealized_pnl) / max(ONE, wallet_balance)


def adl_margin_ratio(
    wallet_balance: Decimal, unrealized_pnl: Decimal, maint_margin: Decimal
) -> Decimal:
    """ADL ``marginRatio = MM / (WB + uPnL)``, 0 when ``WB + uPnL ≤ 0`` (FACTS.md "ADL")."""
    margin_balance = wallet_balance + unrealized_pnl
    if margin_balance <= ZERO:
        return ZERO
    return maint_margin / margin_balance


def adl_score(wallet_balance: Decimal, unrealized_pnl: Decimal, maint_margin: Decimal) -> Decimal:
    """ADL ranking score ``pnlPct × marginRatio`` (FACTS.md "ADL"); 0 for a losing position.

    ``wallet_balance`` is the wallet backing the position (cross wallet or isolated wallet).
    """
    return _clean(
        adl_pnl_ratio(wallet_balance, unrealized_pnl)
        * adl_margin_ratio(wallet_balance, unrealized_pnl, maint_margin)
    )


def adl_quantiles(scores: Sequence[Decimal]) -> list[int]:
    """ADL quantiles 0..4 for the scores of one symbol and side, in input order.

    Aster and Binance publish the 0–4 scale, not the ranking rule; this one is ours:
    a score ≤ 0 (losing or flat position) is 0. Among the ``n`` positive scores, a score
    with ``r`` positive scores ≤ it (so ties share the higher rank) gets
    ``ceil(4 × r / n)``: always 1..4, the highest score always 4, and with ``n ≥ 4``
    each quantile holds about a quarter of the positions.
    """
    positive = sorted(score for score in scores if score > ZERO)
    count = len(positive)
    result: list[int] = []
    for score in scores:
        if score <= ZERO:
            result.append(0)
            continue
        rank = _count_at_most(positive, score)
        result.append(-(-4 * rank // count))
    return result


def _count_at_most(ordered: Sequence[Decimal], value: Decimal) -> int:
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] <= value:
            low = middle + 1
        else:
            high = middle
    return low


# --- balances ---------------------------------------------------------------------------------


def available_balance(
    cross_wallet_balance: Decimal,
    cross_unrealized_pnl: Decimal,
    cross_initial_margin: Decimal,
    isolated_open_order_margin: Decimal,
) -> Decimal:
    """``availableBalance = max(0, crossWB + Σ cross uPnL − Σ cross IM − Σ isolated order IM)``.

    ``cross_initial_margin`` covers cross positions *and* cross open orders (FACTS.md).
    """
    return max(
        ZERO,
        cross_wallet_balance
        + cross_unrealized_pnl
        - cross_initial_margin
        - isolated_open_order_margin,
    )


def max_withdraw_amount(
    cross_wallet_balance: Decimal,
    cross_unrealized_pnl: Decimal,
    cross_initial_margin: Decimal,
    isolated_open_order_margin: Decimal,
) -> Decimal:
    """``maxWithdraw = max(0, crossWB + min(0, Σ cross uPnL) − Σ cross IM − Σ isolated order IM)``.

    Like ``available_balance`` but unrealized profit is not withdrawable (FACTS.md [B]).
    """
    return max(
        ZERO,
        cross_wallet_balance
        + min(ZERO, cross_unrealized_pnl)
        - cross_initial_margin
        - isolated_open_order_margin,
    )


def isolated_reducible(
    isolated_wallet: Decimal,
    maint_margin: Decimal,
    position_amt: Decimal,
    entry: Decimal,
    mark: Decimal,
    leverage: int,
) -> Decimal:
    """Most margin removable from an isolated position (FACTS.md "Isolated margin"):

    ``max(0, min(IWB − MM, IWB + amt × (mark − entry) − mark × |amt| / leverage))``:
    what is left must cover the maintenance margin, and the margin balance must still cover
    the initial margin at the current leverage.
    """
    _check_leverage(leverage)
    keep_initial = (
        isolated_wallet + position_amt * (mark - entry) - mark * abs(position_amt) / leverage
    )
    return max(ZERO, min(isolated_wallet - maint_margin, keep_initial))


def remaining_openable_notional(
    max_notional: Decimal, current_notional: Decimal, available: Decimal, leverage: int
) -> Decimal:
    """``max(0, min(maxNotional(L) − |notional|, available × L))`` (FACTS.md reading).

    ``remainingOpenableNotionalValue`` is undocumented: what the bracket cap still allows,
    limited by what the available balance can margin at this leverage; never negative.
    """
    _check_leverage(leverage)
    return max(ZERO, min(max_notional - abs(current_notional), available * leverage))
