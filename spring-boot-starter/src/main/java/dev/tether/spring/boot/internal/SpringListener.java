package dev.tether.spring.boot.internal;

import dev.tether.websocket.WebSocketServer;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.reactive.handler.AbstractHandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Mounts a hosted Tether {@link WebSocketServer} on Spring WebFlux's server ({@code tether.websocket.server.listener=spring}):
 * requests for its path are handed, before the application's router functions and controllers, to
 * {@link WebSocketServer#handle(HttpServerRequest, HttpServerResponse)} with Reactor Netty's own request and response,
 * so Tether answers refusals, upgrades the connection itself and installs its close handshake on it, as on its own
 * listener. Only loaded when Spring WebFlux and Reactor Netty are on the class path.
 */
public final class SpringListener extends AbstractHandlerMapping {

    /** Before router functions (-1) and annotated controllers (0). */
    public static final int ORDER = -2;

    private final String path;
    private final WebHandler handler;

    /**
     * @param server the hosted server
     * @param path   the path to mount it on
     */
    public SpringListener(WebSocketServer server, String path) {
        this.path = path;
        this.handler = exchange -> {
            HttpServerRequest request = ServerHttpRequestDecorator.getNativeRequest(exchange.getRequest());
            HttpServerResponse response = ServerHttpResponseDecorator.getNativeResponse(exchange.getResponse());
            return Mono.from(server.handle(request, response));
        };
        setOrder(ORDER);
    }

    @Override
    protected Mono<?> getHandlerInternal(ServerWebExchange exchange) {
        return path.equals(exchange.getRequest().getPath().pathWithinApplication().value()) ? Mono.just(handler)
                : Mono.empty();
    }
}
