// The SQLite baseline: WAL inserts of a ~1 KB JSON row through one reused
// prepared statement, each transaction BEGIN; <batch> INSERTs; COMMIT.
//
//   bench_sqlite <dir> <rows> <batch> <FULL|NORMAL>
// Prints one JSON line: {"sync":..,"batch":..,"rows":..,"seconds":..,"rows_per_s":..,"commits_per_s":..}
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s: %s\n", sql, err != nullptr ? err : "?");
    sqlite3_free(err);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bench_sqlite <dir> <rows> <batch> <FULL|NORMAL>\n");
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/sqlite-bench-" + argv[4] + "-" + argv[3] + ".db";
  const long rows = std::atol(argv[2]);
  const long batch = std::max(1L, std::atol(argv[3]));
  const std::string sync = argv[4];
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 1;
  if (!Exec(db, "PRAGMA journal_mode=WAL") ||
      !Exec(db, ("PRAGMA synchronous=" + sync).c_str()) ||
      !Exec(db, "CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER, body TEXT)")) {
    return 1;
  }
  std::string body = R"({"kind":"bootstrap","steps":[)";
  while (body.size() < 1000) body += R"({"name":"step","outcome":"done","exit_code":0},)";
  body += "{}]}";
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events(ts, body) VALUES(?1, ?2)", -1, &ins, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  long done = 0, commits = 0;
  while (done < rows) {
    if (!Exec(db, "BEGIN")) return 1;
    for (long i = 0; i < batch && done < rows; ++i, ++done) {
      sqlite3_bind_int64(ins, 1, done);
      sqlite3_bind_text(ins, 2, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) return 1;
      sqlite3_reset(ins);
    }
    if (!Exec(db, "COMMIT")) return 1;
    ++commits;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sqlite3_finalize(ins);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  std::printf("{\"bench\":\"sqlite\",\"sync\":\"%s\",\"batch\":%ld,\"rows\":%ld,\"seconds\":%.3f,\"rows_per_s\":%.0f,"
              "\"commits_per_s\":%.0f}\n",
              sync.c_str(), batch, rows, secs, rows / secs, commits / secs);
  return 0;
}
