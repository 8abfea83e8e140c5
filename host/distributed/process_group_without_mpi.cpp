// The process group in a build without MPI: every run is a group of one.
#include "host/distributed/process_group.hpp"

namespace jm {

bool built_with_mpi() { return false; }

std::string mpi_description() { return "MPI: not built in (JM_WITH_MPI=OFF): runs in one process"; }

namespace process_group_detail {
std::unique_ptr<ProcessGroup> make_mpi_group() {
  throw ConfigError("journeymap was built without MPI; reconfigure with -DJM_WITH_MPI=ON");
}
}  // namespace process_group_detail

}  // namespace jm
