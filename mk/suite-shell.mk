# The shell's pure parts: the command-line parser (lib/text/shell_parse.c, linked
# into capos-shell through SHELL_LIB_SRCS) and the terminal line editor
# (lib/text/line_edit.c, linked into the kernel's TerminalSession.readLine).

SHELL_LIB_SRCS := lib/text/shell_parse.c
LIB_SRCS += lib/text/line_edit.c

$(eval $(call host_test,host-shell-parse,tests/host/test_shell_parse.c lib/text/shell_parse.c))
$(eval $(call host_test,host-line-edit,tests/host/test_line_edit.c lib/text/line_edit.c))
$(BUILD)/host/host-shell-parse: lib/text/shell_parse.h
$(BUILD)/host/host-line-edit: lib/text/line_edit.h

$(eval $(call fuzz_target,shell_parse,tests/fuzz/fuzz_shell_parse.c lib/text/shell_parse.c))
$(eval $(call fuzz_target,line_edit,tests/fuzz/fuzz_line_edit.c lib/text/line_edit.c))
$(BUILD)/fuzz/shell_parse: lib/text/shell_parse.h
$(BUILD)/fuzz/line_edit: lib/text/line_edit.h
