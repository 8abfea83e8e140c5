// The outcome of a journey, defined once for every stage: which events are outcomes (a purchase, an
// approval, a cancellation), which label each gives, and where a journey is cut so that nothing the
// outcome reveals reaches paths, patterns, flows, features or models.
//
//   jm::OutcomeDefinition outcome;
//   outcome.events = {{"A_APPROVED", "approved"}, {"A_DECLINED", "declined"}, {"A_CANCELLED", "cancelled"}};
//   outcome.positive = "approved";
//   outcome.after = jm::AfterOutcome::End;       // a case ends at its outcome
//   jm::OutcomeJourneys built = jm::build_outcome_journeys(ctx, ingest.events, jm::JourneyOptions{}, outcome);
//
// The cut: a journey ends before its first outcome event and before every event logged within
// `same_instant_seconds` of it (process logs record several events "at once", in arbitrary order).
// Those events, and the outcome event itself, are not part of the journey; the journey keeps only
// the outcome's label, value and time. Journeys left without events are dropped and counted.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "journeymap/context.hpp"
#include "journeymap/events.hpp"
#include "journeymap/journeys.hpp"

namespace jm {

/// A touchpoint whose events are outcomes, and the label they give a journey.
struct OutcomeEvent {
  std::string touchpoint;
  std::string label = "converted";
};

/// What happens to a customer's events after an outcome.
enum class AfterOutcome : uint8_t {
  NewJourney = 0,  ///< they start a new journey (web and app: a customer can buy again)
  End = 1,         ///< they are dropped (process logs: a case ends at its outcome)
};
AfterOutcome parse_after_outcome(const std::string& text);
const char* to_string(AfterOutcome after);

/// How outcomes are found and labelled. Every command takes it from `[outcome]` or its flags.
struct OutcomeDefinition {
  /// Touchpoints that are outcome events. Events flagged by the CSV's conversion column are outcomes
  /// with the label "converted" as well.
  std::vector<OutcomeEvent> events;
  /// The label the conversion model predicts (journeys with another label or none are negatives).
  std::string positive = "converted";
  /// Events within this many seconds of an outcome event (before or after it) are cut with it.
  double same_instant_seconds = 1.0;
  AfterOutcome after = AfterOutcome::NewJourney;
  /// Optional CSV `id,label[,value]` (a header line first): the label of every journey of that
  /// customer (or case), overriding the events' label; outcome events are still cut.
  std::string label_file;
  /// With a label file: drop the journeys of customers it does not name (instead of labelling them
  /// from their events).
  bool label_file_only = false;
  /// > 0: a journey is positive only when its positive outcome comes within this many days of its
  /// first event. Events after that horizon are cut; a journey whose horizon lies beyond the last
  /// event of the data has no known outcome yet and is labelled "open".
  double window_days = 0.0;

  /// True when nothing but the CSV flag column can mark outcomes.
  bool only_flag_column() const { return events.empty() && label_file.empty(); }
};

/// Throws ConfigError on a negative or non-finite tolerance or window, an empty label, or a
/// touchpoint listed twice.
void validate(const OutcomeDefinition& outcome);

/// Label names of a definition, in id order: 0 "none" (no outcome seen), 1 "converted" (the CSV
/// flag column's label), then the events' labels in order of first mention, then "open" when a
/// window rule is set. Label-file labels are appended as the file introduces them.
Vocabulary outcome_label_vocabulary(const OutcomeDefinition& outcome);

/// What the outcome cut removed, for the run summary, `info` and /meta.
struct OutcomeStats {
  int64_t outcome_events = 0;          ///< outcome events removed (each labelled a journey or was repeated)
  int64_t same_instant_events = 0;     ///< other events cut for being logged with an outcome
  int64_t events_after_outcome = 0;    ///< events dropped after a case's outcome (AfterOutcome::End)
  int64_t events_after_window = 0;     ///< events after a window rule's horizon
  int64_t journeys_without_events = 0; ///< journeys whose first event was the outcome (dropped)
  int64_t label_file_rows = 0;         ///< rows of the label file
  int64_t label_file_unmatched = 0;    ///< label-file ids absent from the events
  int64_t journeys_labelled_by_file = 0;
  int64_t journeys_unlabelled = 0;     ///< dropped by label_file_only
  /// Touchpoints most often cut for being logged with an outcome, (name, events), most first (at most 5).
  std::vector<std::pair<std::string, int64_t>> same_instant_touchpoints;
  /// [touchpoints] events cut for being logged with an outcome, per touchpoint id: what the list
  /// above is made from, and what cuts made in parts (batches, processes) add up.
  std::vector<int64_t> same_instant_by_touchpoint;
};

/// Adds `part`'s counts to `total`'s (the same touchpoint dictionary) and lists the touchpoints
/// most often cut again: for cuts made in parts (batches, processes). The label file's counts are
/// each part's own reading of the whole file, so they are kept, not added.
void add_outcome_stats(OutcomeStats& total, const OutcomeStats& part, const Vocabulary& touchpoints);

/// Fills `stats.same_instant_touchpoints` from `stats.same_instant_by_touchpoint`: the five
/// touchpoints most often cut, most first, ties in touchpoint order.
void list_most_cut_touchpoints(OutcomeStats& stats, const Vocabulary& touchpoints);

/// Readable warnings about what the cut found (events logged with outcomes, unmatched label-file ids).
std::vector<std::string> outcome_warnings(const OutcomeStats& stats, const OutcomeDefinition& outcome);

/// Journeys cut at their outcomes, with the labels and what the cut removed.
struct OutcomeJourneys {
  JourneySet journeys;
  OutcomeStats stats;
};

/// Sets `events.is_conversion` to the label id of every outcome event (0 for ordinary events); the
/// CSV flag column's 1 keeps the meaning "converted". With `require_touchpoints`, an outcome
/// touchpoint that is not in the data is a ConfigError naming the closest names (a typo in a
/// training run); without (scoring journeys in flight, which may hold no outcome yet) it is skipped.
void mark_outcome_events(EventTable& events, const OutcomeDefinition& outcome, const Vocabulary& labels,
                         bool require_touchpoints = true);

/// Cuts raw journeys (built with split_at_conversion, so that an outcome event can only be the last
/// event of its journey, and `converted` holds its label id) at their outcomes.
OutcomeJourneys cut_at_outcomes(JourneySet raw, const OutcomeDefinition& outcome, Vocabulary labels);

/// mark_outcome_events + build_journeys (split at outcomes) + cut_at_outcomes: the journeys every
/// command works on. `events` is modified (outcome labels marked).
OutcomeJourneys build_outcome_journeys(const Context& ctx, EventTable& events, const JourneyOptions& options,
                                       const OutcomeDefinition& outcome, bool require_touchpoints = true);

/// One plain sentence stating the journey rule (gap, cap, duplicates) and the outcome definition.
std::string describe_journey_rule(const JourneyOptions& options, const OutcomeDefinition& outcome);

/// The `limit` names of `vocabulary` closest to `name` (edit distance), for "did you mean" errors.
std::vector<std::string> closest_names(const Vocabulary& vocabulary, const std::string& name, size_t limit = 3);

}  // namespace jm
