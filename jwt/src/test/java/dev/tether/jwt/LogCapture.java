package dev.tether.jwt;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** Captures every log line (Tether at DEBUG) for the duration of a test, to scan it for secrets. */
final class LogCapture implements AutoCloseable {

    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Logger tether = (Logger) LoggerFactory.getLogger("dev.tether");
    private final Level previous = tether.getLevel();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture() {
        appender.start();
        root.addAppender(appender);
        tether.setLevel(Level.DEBUG);
    }

    /** @return every captured message and every message of attached throwables */
    List<String> texts() {
        List<String> texts = new ArrayList<>();
        for (ILoggingEvent e : List.copyOf(appender.list)) {
            texts.add(e.getFormattedMessage());
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                texts.add(String.valueOf(t.getMessage()));
            }
        }
        return texts;
    }

    @Override
    public void close() {
        root.detachAppender(appender);
        tether.setLevel(previous);
    }
}
