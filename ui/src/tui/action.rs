//! What a key means: `from_key` maps a key press, given the model it lands
//! on (focus, prompt, help), to an `Action`; `update` carries actions out.
//! Nothing here changes state.

use super::model::{App, Pane, PromptKind};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Editing the `:`, `g` or `/` prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptEdit {
    Char(char),
    /// Deletes the last character (closes an empty prompt).
    Backspace,
    /// Ctrl-U.
    Clear,
    /// Up/Down through the command history.
    History {
        older: bool,
    },
    Submit,
    Cancel,
}

/// Editing the function list's filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterEdit {
    Char(char),
    Backspace,
    Clear,
}

/// One thing the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ctrl-C: pause a running program, close the prompt and help.
    Interrupt,
    CloseHelp,
    Prompt(PromptEdit),
    OpenPrompt(PromptKind),
    /// `/`: search in the code pane.
    Search,
    /// Esc on the annotated function: back to the profile.
    CloseAnnotated,
    ClearMessage,
    Continue,
    Pause,
    Finish,
    /// A line step into calls (an instruction step in the disassembly).
    Step,
    /// A line step over calls (an instruction step in the disassembly).
    Next,
    ToggleBreakpoint,
    CycleFocus(isize),
    Focus(Pane),
    Filter(FilterEdit),
    /// Enter in the function list: its code in the code pane.
    OpenFunction,
    ToggleProfile,
    Help,
    Quit,
    ToggleHex,
    ToggleSource,
    ToggleZoom,
    /// `catch throw` on or off.
    ToggleCatchThrow,
    ToggleNative,
    /// `+`/`-`: the focused pane's share of the height.
    Weight(i16),
    /// `<`/`>`: the left column's width in percent.
    LeftWidth(i16),
    DeleteBreakpoint,
    ToggleBreakpointEnabled,
    /// Moves the focused pane's cursor by lines.
    Scroll(isize),
    /// Enter in the focused pane.
    Enter,
    /// →: opens the selected row of the Variables or Watch pane.
    Expand,
    /// ←: closes it (or goes to its parent).
    Collapse,
    /// Deletes the selected watch expression.
    DeleteWatch,
    /// `w`: a watchpoint on the selected variable.
    Watchpoint,
}

/// The action of `key` in the state `app` is in (None: the key means nothing here).
pub fn from_key(app: &App, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Interrupt);
    }
    if app.help {
        return Some(Action::CloseHelp);
    }
    if let Some(p) = &app.prompt {
        return prompt_key(p.kind, key).map(Action::Prompt);
    }
    if key.code == KeyCode::Esc && app.focus == Pane::Code && app.annotated.is_some() {
        return Some(Action::CloseAnnotated);
    }
    if app.message.is_some() && key.code == KeyCode::Esc && app.focus != Pane::Functions {
        return Some(Action::ClearMessage);
    }
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    let fixed = match key.code {
        KeyCode::F(5) => Some(Action::Continue),
        KeyCode::F(6) => Some(Action::Pause),
        KeyCode::F(9) => Some(Action::ToggleBreakpoint),
        KeyCode::F(10) => Some(Action::Next),
        KeyCode::F(11) if shift => Some(Action::Finish),
        KeyCode::F(23) => Some(Action::Finish),
        KeyCode::F(11) => Some(Action::Step),
        KeyCode::Tab => Some(Action::CycleFocus(1)),
        KeyCode::BackTab => Some(Action::CycleFocus(-1)),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    if app.focus == Pane::Functions {
        if let Some(a) = filter_key(app, key) {
            return Some(a);
        }
    }
    if let KeyCode::Char(c) = key.code {
        if !ctrl && !alt {
            if let Some(a) = char_key(app, c) {
                return Some(a);
            }
        }
    }
    nav_key(app, key)
}

fn prompt_key(kind: PromptKind, key: KeyEvent) -> Option<PromptEdit> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Esc => PromptEdit::Cancel,
        KeyCode::Enter => PromptEdit::Submit,
        KeyCode::Backspace => PromptEdit::Backspace,
        KeyCode::Up if kind == PromptKind::Command => PromptEdit::History { older: true },
        KeyCode::Down if kind == PromptKind::Command => PromptEdit::History { older: false },
        KeyCode::Char('u') if ctrl => PromptEdit::Clear,
        KeyCode::Char(c) if !ctrl => PromptEdit::Char(c),
        _ => return None,
    })
}

/// Typing filters the function list.
fn filter_key(app: &App, key: KeyEvent) -> Option<Action> {
    Some(match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Action::Filter(FilterEdit::Char(c))
        }
        KeyCode::Backspace => Action::Filter(FilterEdit::Backspace),
        KeyCode::Esc if !app.func_filter.is_empty() => Action::Filter(FilterEdit::Clear),
        KeyCode::Esc => Action::Focus(Pane::Code),
        KeyCode::Enter => Action::OpenFunction,
        _ => return None,
    })
}

/// Single-letter commands.
fn char_key(app: &App, c: char) -> Option<Action> {
    let tree = matches!(app.focus, Pane::Variables | Pane::Watch);
    Some(match c {
        'c' => Action::Continue,
        'b' => Action::ToggleBreakpoint,
        'n' => Action::Next,
        's' => Action::Step,
        'f' => Action::Finish,
        'p' => Action::ToggleProfile,
        'g' => Action::OpenPrompt(PromptKind::Goto),
        '/' => Action::Search,
        ':' => Action::OpenPrompt(PromptKind::Command),
        '?' => Action::Help,
        'q' => Action::Quit,
        'x' => Action::ToggleHex,
        'v' => Action::ToggleSource,
        'z' => Action::ToggleZoom,
        't' => Action::ToggleCatchThrow,
        'm' if app.focus == Pane::Code => Action::ToggleNative,
        'w' if app.focus == Pane::Variables => Action::Watchpoint,
        'a' | 'i' if app.focus == Pane::Watch => Action::OpenPrompt(PromptKind::Watch),
        'd' if app.focus == Pane::Watch => Action::DeleteWatch,
        'l' if tree => Action::Expand,
        'h' if tree => Action::Collapse,
        '+' | '=' => Action::Weight(1),
        '-' | '_' => Action::Weight(-1),
        '<' | ',' => Action::LeftWidth(-5),
        '>' | '.' => Action::LeftWidth(5),
        'd' if app.focus == Pane::Breakpoints => Action::DeleteBreakpoint,
        'e' | ' ' if app.focus == Pane::Breakpoints => Action::ToggleBreakpointEnabled,
        _ => return None,
    })
}

/// Arrows, pages, Home/End and Enter in the focused pane.
fn nav_key(app: &App, key: KeyEvent) -> Option<Action> {
    let tree = matches!(app.focus, Pane::Variables | Pane::Watch);
    let page = app.pane_height(app.focus).saturating_sub(1).max(1) as isize;
    Some(Action::Scroll(match key.code {
        KeyCode::Up | KeyCode::Char('k') => -1,
        KeyCode::Down | KeyCode::Char('j') => 1,
        KeyCode::PageUp => -page,
        KeyCode::PageDown => page,
        KeyCode::Home => isize::MIN / 2,
        KeyCode::End => isize::MAX / 2,
        KeyCode::Right if tree => return Some(Action::Expand),
        KeyCode::Left if tree => return Some(Action::Collapse),
        KeyCode::Delete if app.focus == Pane::Watch => return Some(Action::DeleteWatch),
        KeyCode::Enter => return Some(Action::Enter),
        _ => return None,
    }))
}
