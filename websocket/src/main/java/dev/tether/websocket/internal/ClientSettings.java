package dev.tether.websocket.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.websocket.WebSocketSessionSpec;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.netty.http.client.HttpClient;

/**
 * What a {@link dev.tether.websocket.WebSocketClient} hands its connect path.
 *
 * <p><b>Internal:</b> public only because the client's public type lives in another package; not
 * part of the API.
 *
 * @param headers          per-attempt handshake headers
 * @param query            per-attempt query parameters
 * @param subprotocols     per-attempt offered subprotocols
 * @param handshakeTimeout bound on TCP connect, TLS and the upgrade
 * @param tcpCloseWait     wait for the server's FIN after the close handshake
 * @param watchdog         application-silence bound, or null
 * @param session          the session spec
 * @param sslContext       TLS context for {@code wss}, or null for the JDK defaults
 * @param httpClient       customizer of each attempt's HTTP client
 */
public record ClientSettings(Function<Attempt, Map<String, String>> headers, Function<Attempt, Map<String, String>> query,
                             Function<Attempt, List<String>> subprotocols, Duration handshakeTimeout, Duration tcpCloseWait,
                             @Nullable Duration watchdog, WebSocketSessionSpec session, @Nullable SslContext sslContext,
                             UnaryOperator<HttpClient> httpClient) {
}
