package dev.tether.core.testing;

import dev.tether.core.spi.Attempt;
import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An attempt for using a client's connector directly, without the engine (many plain clients in one test): generation
 * and number 1, the parallel scheduler, reports ignored.
 *
 * @param endpoint    the endpoint
 * @param credentials the credentials
 */
public record TestAttempt(Endpoint endpoint, Credentials credentials) implements Attempt {

    /** @param endpoint the endpoint; an attempt without credentials */
    public TestAttempt(Endpoint endpoint) {
        this(endpoint, Credentials.none());
    }

    @Override
    public long generation() {
        return 1;
    }

    @Override
    public int number() {
        return 1;
    }

    @Override
    public boolean credentialsRefreshed() {
        return false;
    }

    @Override
    public Scheduler scheduler() {
        return Schedulers.parallel();
    }

    @Override
    public void reportCloseSent(int code, String reason) {
    }

    @Override
    public void reportCloseReceived(int code, String reason) {
    }

    @Override
    public void reportNotice(String kind, Object details) {
    }
}
