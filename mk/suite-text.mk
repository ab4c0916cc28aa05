# Text (lib/text/): the formatter behind kprintf and the runtime's printf
# (fmt.c), the terminal line editor of the kernel's TerminalSession.readLine
# (line_edit.c, with utf8.c) and capos-shell's command-line parser (shell_parse.c). Who
# links them: mk/link.mk.

$(eval $(call host_test,host-fmt,tests/host/test_fmt.c lib/text/fmt.c))
$(BUILD)/host/host-fmt: lib/text/fmt.h

$(eval $(call host_test,host-shell-parse,tests/host/test_shell_parse.c lib/text/shell_parse.c))
$(eval $(call host_test,host-line-edit,tests/host/test_line_edit.c lib/text/line_edit.c lib/text/utf8.c))
$(eval $(call host_test,host-utf8,tests/host/test_utf8.c lib/text/utf8.c))
$(BUILD)/host/host-utf8: lib/text/utf8.h
$(BUILD)/host/host-shell-parse: lib/text/shell_parse.h
$(BUILD)/host/host-line-edit: lib/text/line_edit.h lib/text/utf8.h

$(eval $(call fuzz_target,shell_parse,tests/fuzz/fuzz_shell_parse.c lib/text/shell_parse.c))
$(eval $(call fuzz_target,line_edit,tests/fuzz/fuzz_line_edit.c lib/text/line_edit.c lib/text/utf8.c))
$(BUILD)/fuzz/shell_parse: lib/text/shell_parse.h
$(BUILD)/fuzz/line_edit: lib/text/line_edit.h lib/text/utf8.h
