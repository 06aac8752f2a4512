// A child process spoken to line by line (an adapter in `serve` mode).
#include <csignal>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>
#include "adapter.hpp"

namespace adapter {

ServeProcess::ServeProcess(const std::vector<std::string>& argv) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) throw Malformed{"pipe failed"};
  pid_ = fork();
  if (pid_ < 0) throw Malformed{"fork failed"};
  if (pid_ == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[1]);
    close(from_child[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_ = fdopen(to_child[1], "w");
  out_ = fdopen(from_child[0], "r");
}

ServeProcess::~ServeProcess() {
  if (in_) fclose(in_);
  if (out_) fclose(out_);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

std::optional<std::string> ServeProcess::ask(const std::string& line) {
  if (std::fputs((line + "\n").c_str(), in_) < 0 || std::fflush(in_) != 0) return std::nullopt;
  std::string reply;
  int c;
  while ((c = std::fgetc(out_)) != EOF && c != '\n') reply += static_cast<char>(c);
  if (c == EOF && reply.empty()) return std::nullopt;
  return reply;
}

}  // namespace adapter
