package dev.tether.core.spi;

import dev.tether.core.SessionEnd;
import dev.tether.core.CloseMode;
import reactor.core.publisher.Mono;

/**
 * One established protocol session, as a {@link Connector} hands it to the engine.
 *
 * @param <S> the protocol's session type, handed to users
 */
public interface EstablishedSession<S> {

    /** @return the user-facing session */
    S session();

    /** @return what was negotiated; its {@code toString()} is shown in the {@code Connected} event */
    Object details();

    /**
     * Completes, once, when the session's transport is closed, saying who ended it and why. It must
     * not complete before the transport is really closed.
     *
     * @return the end of the session
     */
    Mono<SessionEnd> terminated();

    /**
     * Closes the session. {@link dev.tether.core.CloseMode#ABORT} closes the transport at once without a goodbye;
     * the graceful modes say goodbye first, bounded in time by the protocol's own timers. The
     * {@link #terminated()} signal follows when the transport is closed.
     *
     * @param mode how to close
     * @return completes when the transport is closed
     */
    Mono<Void> close(CloseMode mode);
}
