// /model/champion_challenger in the result file of `train --champion`.
#include <vector>

#include "journeymap/result_file.hpp"
#include "journeymap/retraining.hpp"

namespace jm {

void write_champion_challenger(ResultWriter& writer, const ChampionChallenger& decision) {
  writer.write("/model/champion_challenger/auc", std::vector<double>{decision.champion_auc, decision.challenger_auc});
  writer.write("/model/champion_challenger/log_loss",
               std::vector<double>{decision.champion_log_loss, decision.challenger_log_loss});
  writer.write_attribute("/model/champion_challenger", "journeys", decision.journeys);
  writer.write_attribute("/model/champion_challenger", "unseen_by_champion", int64_t{decision.unseen_by_champion});
  writer.write_attribute("/model/champion_challenger", "min_gain", decision.min_gain);
  writer.write_attribute("/model/champion_challenger", "replaced", int64_t{decision.replaced});
  writer.write_attribute("/model/champion_challenger", "reason", decision.reason);
}

}  // namespace jm
