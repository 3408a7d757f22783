#include "common/http_listener.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

namespace dcloud {

namespace {
class GuardedConnection;
}  // namespace

// The connections being served, so that stopAll can end them (HTTPServer does it through an
// event of the handler factory that only it may raise). Shared: a connection may finish after
// its listener is gone.
struct HttpListenerConnections {
  std::mutex mutex;
  std::set<GuardedConnection*> live;
};

namespace {

class GuardedConnection final : public Poco::Net::HTTPServerConnection {
 public:
  GuardedConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                    Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                    std::shared_ptr<const BadRequestReplier> bad_request,
                    std::shared_ptr<HttpListenerConnections> connections)
      : HTTPServerConnection(socket, params, factory),
        bad_request_(std::move(bad_request)),
        connections_(std::move(connections)) {
    std::lock_guard lock(connections_->mutex);
    connections_->live.insert(this);
  }
  ~GuardedConnection() override {
    std::lock_guard lock(connections_->mutex);
    connections_->live.erase(this);
  }

  void run() override {
    // Poco's session closes the socket as the exception leaves it. A duplicate descriptor keeps
    // the connection open for the reply (plain sockets: a TLS session ends with Poco's, so a TLS
    // client still sees the connection close).
    const int spare = socket().secure() ? -1 : ::dup(socket().impl()->sockfd());
    try {
      HTTPServerConnection::run();
    } catch (const Poco::SyntaxException& e) {
      if (spare >= 0) {
        reply(spare, "a header could not be read (" + e.message() +
                         "); Content-Length must be a decimal number of bytes");
      }
    } catch (...) {
      if (spare >= 0) ::close(spare);
      throw;
    }
    if (spare >= 0) ::close(spare);
  }

  // The server stops: no further requests; abort_current also cuts the one being served.
  void serverStopped(bool abort_current) { onServerStopped(abort_current); }

 private:
  void reply(int fd, const std::string& reason) {
    const BadRequestReply r = (*bad_request_)(reason);
    Poco::Net::StreamSocket spare(new Poco::Net::StreamSocketImpl(fd));  // owns fd now
    replyAndClose(spare, "HTTP/1.1 400 Bad Request\r\nContent-Type: " + r.content_type +
                             "\r\nContent-Length: " + std::to_string(r.body.size()) +
                             "\r\nConnection: close\r\n\r\n" + r.body);
  }

  std::shared_ptr<const BadRequestReplier> bad_request_;
  std::shared_ptr<HttpListenerConnections> connections_;
};

class GuardedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  GuardedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                           Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           BadRequestReplier bad_request,
                           std::shared_ptr<HttpListenerConnections> connections)
      : params_(std::move(params)),
        factory_(std::move(factory)),
        bad_request_(std::make_shared<const BadRequestReplier>(std::move(bad_request))),
        connections_(std::move(connections)) {}

  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GuardedConnection(socket, params_, factory_, bad_request_, connections_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  std::shared_ptr<const BadRequestReplier> bad_request_;
  std::shared_ptr<HttpListenerConnections> connections_;
};

}  // namespace

void replyAndClose(Poco::Net::StreamSocket& socket, const std::string& reply) {
  constexpr std::int64_t kMaxDrainBytes = 1 << 20;
  try {
    for (std::size_t sent = 0; sent < reply.size();) {
      const int n = socket.sendBytes(reply.data() + sent, static_cast<int>(reply.size() - sent));
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
    socket.shutdownSend();
    socket.setReceiveTimeout(Poco::Timespan(1, 0));
    char buf[16384];
    for (std::int64_t total = 0; total < kMaxDrainBytes;) {
      const int n = socket.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      total += n;
    }
  } catch (const Poco::Exception&) {
    // A timeout or reset: the client has had its chance to read the reply.
  }
}

HttpListener::HttpListener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           Poco::ThreadPool& pool, const Poco::Net::ServerSocket& socket,
                           Poco::Net::HTTPServerParams::Ptr params, BadRequestReplier bad_request)
    : HttpListener(std::make_shared<HttpListenerConnections>(), std::move(factory), pool, socket,
                   std::move(params), std::move(bad_request)) {}

namespace {

// Poco's default pool with room for params' threads, as TCPServer makes it when given no pool
// (16 threads otherwise: a server of long polls would serve 16 of them and starve the rest).
Poco::ThreadPool& defaultPoolFor(const Poco::Net::HTTPServerParams& params) {
  Poco::ThreadPool& pool = Poco::ThreadPool::defaultPool();
  const int missing = params.getMaxThreads() - pool.capacity();
  if (missing > 0) pool.addCapacity(missing);
  return pool;
}

}  // namespace

HttpListener::HttpListener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           const Poco::Net::ServerSocket& socket,
                           Poco::Net::HTTPServerParams::Ptr params, BadRequestReplier bad_request)
    : HttpListener(std::make_shared<HttpListenerConnections>(), std::move(factory),
                   defaultPoolFor(*params), socket, params, std::move(bad_request)) {}

HttpListener::HttpListener(std::shared_ptr<HttpListenerConnections> connections,
                           Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           Poco::ThreadPool& pool, const Poco::Net::ServerSocket& socket,
                           Poco::Net::HTTPServerParams::Ptr params, BadRequestReplier bad_request)
    : TCPServer(new GuardedConnectionFactory(params, std::move(factory), std::move(bad_request),
                                             connections),
                pool, socket, params),
      connections_(std::move(connections)) {}

HttpListener::~HttpListener() {
  try {
    stopAll(false);
  } catch (...) {
  }
}

void HttpListener::stopAll(bool abort_current) {
  stop();
  std::lock_guard lock(connections_->mutex);
  for (GuardedConnection* c : connections_->live) c->serverStopped(abort_current);
}

}  // namespace dcloud
