package dev.tether.websocket;

import reactor.core.publisher.Mono;

/**
 * Decides whether a WebSocket upgrade may go ahead, before the server answers it: a refusal is an
 * HTTP 401 or 403 and no WebSocket is opened; an acceptance may name a principal, attach attributes
 * and say when the credentials expire (the server then closes the session, see
 * {@link WebSocketServer.Builder#credentialsExpiredCloseCode(int)}).
 *
 * <p>Called on the connection's event loop: do not block; return a {@link Mono} for slow work. The
 * decision is bounded by the server's handshake timeout. An error or an empty {@code Mono} refuses
 * the upgrade with HTTP 500 and is logged without its message.
 *
 * <p>{@link BearerAuthenticator} covers {@code Authorization: Bearer} tokens checked by any
 * function, for example a JWT verifier.
 */
@FunctionalInterface
public interface Authenticator {

    /** Accepts every upgrade, anonymously (the default). */
    Authenticator ALLOW_ALL = request -> Mono.just(new AuthDecision.Accepted(null, java.util.Map.of(), null));

    /**
     * @param request the upgrade request
     * @return the decision
     */
    Mono<AuthDecision> authenticate(UpgradeRequest request);
}
