#pragma once
// Poco's HTTPServer, except that a request whose head Poco cannot turn into a body stream gets a
// 400 reply instead of a silently closed connection.
//
// Poco parses Content-Length while it builds the request, before any handler runs. A value its
// number parser refuses ("abc", "1e3", "0x5", one past 2^63) throws a SyntaxException that
// HTTPServerConnection does not catch: the connection is closed with no reply, and the client
// sees a reset where it expects an error it can report. The connection here catches exactly that
// and answers with the body the service builds (S3 error XML, an API's JSON error), then closes.
// Handlers catch their own exceptions, so nothing else reaches that point after a reply began.

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <functional>
#include <memory>
#include <string>

namespace dcloud {

// The reply to a request Poco could not read: its body for a reason, and the body's type.
struct BadRequestReply {
  std::string body;
  std::string content_type;
};
using BadRequestReplier = std::function<BadRequestReply(const std::string& reason)>;

struct HttpListenerConnections;  // the connections being served

// Sends a whole reply to a request whose body is left unread, then ends the connection. Closing
// at once would make the kernel answer the unread bytes with a reset, which can destroy the reply
// before the client reads it; so it stops sending, then discards what the client still sends, for
// at most a second and 1 MiB.
void replyAndClose(Poco::Net::StreamSocket& socket, const std::string& reply);

class HttpListener : public Poco::Net::TCPServer {
 public:
  HttpListener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Poco::ThreadPool& pool,
               const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
               BadRequestReplier bad_request);
  // On Poco's default thread pool, grown to params' maximum number of threads.
  HttpListener(Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
               const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
               BadRequestReplier bad_request);
  ~HttpListener() override;

  // Stops accepting; abort_current also ends the connections being served (as HTTPServer's).
  void stopAll(bool abort_current = false);

 private:
  HttpListener(std::shared_ptr<HttpListenerConnections> connections,
               Poco::Net::HTTPRequestHandlerFactory::Ptr factory, Poco::ThreadPool& pool,
               const Poco::Net::ServerSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
               BadRequestReplier bad_request);
  std::shared_ptr<HttpListenerConnections> connections_;
};

}  // namespace dcloud
