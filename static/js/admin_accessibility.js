'use strict';
// Names for the controls that Django admin's own JavaScript draws without one (WCAG 2.1: 1.3.1, 4.1.2).
//
// - The autocomplete boxes (select2): the box is named by the chosen value only, so an empty one had no name
//   at all, and the search field of a multiple choice had no label. Each now reads "<field label> <value>".
// - The "remove all" cross of a multiple autocomplete sits directly in a list; it is a mouse shortcut
//   (Backspace removes choices from the keyboard) and is hidden from assistive technology.
// - An open autocomplete box names its list with aria-owns only; ARIA 1.2 asks a combobox for aria-controls.
// - The search icons of the two-list filter (groups, permissions) carry aria-label on a bare <span>: given
//   role="img" so that the label is allowed.
//
// The widgets are drawn after the page loads and redrawn on every change, so this watches the page and
// fixes whatever appears, whenever it appears.
{
    // Only write what differs: every write is seen by the observer below, which would otherwise never stop.
    const set = (element, name, value) => {
        if (element.getAttribute(name) !== value) {
            element.setAttribute(name, value);
        }
    };
    const unset = (element, name) => {
        if (element.hasAttribute(name)) {
            element.removeAttribute(name);
        }
    };

    const labelId = (control) => {
        const label = control.id && document.querySelector(`label[for="${CSS.escape(control.id)}"]`);
        if (!label) {
            return null;
        }
        if (!label.id) {
            set(label, 'id', `${control.id}-label`);
        }
        return label.id;
    };

    const nameAutocomplete = (container) => {
        const select = container.previousElementSibling;
        if (!select || select.tagName !== 'SELECT') {
            return;
        }
        const label = labelId(select);
        const selection = container.querySelector('.select2-selection');
        const rendered = container.querySelector('.select2-selection__rendered');
        const search = container.querySelector('.select2-search__field');
        if (selection && rendered && selection.classList.contains('select2-selection--single')) {
            // The rendered value is text inside the box, not a text field of its own.
            unset(rendered, 'role');
            unset(rendered, 'aria-readonly');
            if (label) {
                set(selection, 'aria-labelledby', `${label} ${rendered.id}`);
            } else if (!selection.hasAttribute('aria-label')) {
                set(selection, 'aria-label', select.name);
            }
        }
        if (search && label) {
            set(search, 'aria-labelledby', label);
        }
    };

    const nameDropdownSearch = (search) => {
        // A dropdown's search field controls "select2-<select id>-results" while it is open.
        const results = search.getAttribute('aria-controls') || '';
        const select = document.getElementById(results.replace(/^select2-/, '').replace(/-results$/, ''));
        const label = select && labelId(select);
        if (label) {
            set(search, 'aria-labelledby', label);
        } else if (!search.hasAttribute('aria-label')) {
            set(search, 'aria-label', 'Search');
        }
    };

    const fix = (root) => {
        if (!(root instanceof Element)) {
            return;
        }
        const all = (selector) => [...(root.matches(selector) ? [root] : []), ...root.querySelectorAll(selector)];
        all('.select2-container').forEach(nameAutocomplete);
        all('.select2-dropdown .select2-search__field').forEach(nameDropdownSearch);
        all('.select2-selection__rendered > .select2-selection__clear').forEach((clear) => {
            set(clear, 'aria-hidden', 'true');
        });
        all('.select2-selection[role="combobox"]').forEach((box) => {
            const list = box.getAttribute('aria-owns');
            if (list) {
                set(box, 'aria-controls', list);
            } else {
                unset(box, 'aria-controls');
            }
        });
        all('span.help-tooltip[aria-label]:not([role])').forEach((icon) => set(icon, 'role', 'img'));
    };

    const observer = new MutationObserver((mutations) => {
        for (const mutation of mutations) {
            if (mutation.type === 'attributes') {
                fix(mutation.target);
            } else {
                mutation.addedNodes.forEach(fix);
                // A select2 box redraws its content inside the box: look at the box again.
                const box = mutation.target instanceof Element && mutation.target.closest('.select2-container');
                if (box) {
                    fix(box);
                }
            }
        }
    });
    const start = () => {
        fix(document.body);
        observer.observe(document.body, {
            childList: true, subtree: true, attributes: true, attributeFilter: ['aria-controls', 'aria-owns'],
        });
    };
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}
