package dev.tether.websocket.internal;

import dev.tether.websocket.LifecycleAnnouncer;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketSessionSpec;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.scheduler.Scheduler;
import reactor.netty.http.server.HttpServer;

/**
 * The resolved settings of a WebSocket server.
 *
 * @param host                  the address to bind
 * @param port                  the port to bind (0 for any free one, kept across restarts once chosen)
 * @param path                  the upgrade path
 * @param handler               the application's work per session
 * @param subprotocols          subprotocols the server accepts
 * @param heartbeat             ping settings per session
 * @param closeHandshakeTimeout wait for a client's close frame outside drains
 * @param drainTimeout          the bound on a drain's close handshakes
 * @param announcer             hello, goodbye and heartbeat messages
 * @param maxFramePayload       largest frame payload
 * @param maxMessageBytes       largest inbound message
 * @param inboundBuffer         inbound messages held before reading pauses
 * @param lingerTimeout         how long a close caused by the client's input reads and discards before closing TCP
 * @param lingerBytes           how many bytes such a close may discard before closing TCP
 * @param compression           whether permessage-deflate is accepted
 * @param httpServer            customizer of the Reactor Netty server
 * @param scheduler             timers and clock
 * @param limits                authentication and limits
 * @param hosted                whether the server is served by a host's HTTP server instead of a listener of its own
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public record ServerConfig(String host, int port, String path, Function<WebSocketSession, Publisher<Void>> handler,
                           List<String> subprotocols, WebSocketSessionSpec session,
                           Duration drainTimeout, LifecycleAnnouncer announcer, UnaryOperator<HttpServer> httpServer, Scheduler scheduler,
                           ServerLimits limits, boolean hosted) {
}
