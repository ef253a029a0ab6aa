use soft_delete_core::soft_delete;

#[soft_delete]
pub struct Model {
    pub id: i64,
}

fn main() {}
