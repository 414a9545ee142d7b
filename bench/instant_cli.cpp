// An instant, stateless stand-in for everestctl and kubectl: answers every
// call with success at once. For throughput tests and benchmarks only (the
// Kafka intake volume test, the job pipeline bench), where the stateful
// Python fakes would measure Python's start-up instead of the daemon.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  bool version = false, apply = false, get = false;
  for (int i = 1; i < argc; ++i) {
    version = version || std::strcmp(argv[i], "version") == 0;
    apply = apply || std::strcmp(argv[i], "apply") == 0;
    get = get || std::strcmp(argv[i], "get") == 0;
  }
  if (version) {
    std::puts("{\"projectName\":\"everestctl\",\"version\":\"v1.11.0\",\"fullCommit\":\"0\"}");
  } else if (apply) {
    std::puts("resourcequota/user-quota created\nlimitrange/user-limits created");
  } else if (get) {
    std::puts("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}");
  } else {
    std::puts("\xE2\x9C\x85 done");
  }
  return 0;
}
